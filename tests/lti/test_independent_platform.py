"""mixgrade against an LTI 1.3 platform we did not write: the ``lti1p3platform`` package.

tests/lti/platform.py is our own simulated LMS; a tool tested only against the platform its
authors wrote shares their misreadings of the spec. Here every platform-side step is the
library's code (tests/lti/independent_platform.py hosts it over HTTP): the login
initiation, the signed id_token, the access token endpoint and its client-assertion
check, the AGS score and NRPS membership services, the Deep Linking response validation.

Where lti1p3platform 0.1.8 falls short of the 1EdTech specs (checked against LTI 1.3 core,
Security Framework 1.0, AGS 2.0, NRPS 2.0, Deep Linking 2.0), the harness works around it;
mixgrade is not bent to fit:

- OIDC auth request: only nonce, state, redirect_uri (present) and client_id are checked;
  not scope/response_type/response_mode/prompt, not that login_hint is the user the login
  was started for, and not that redirect_uri is registered. Its launch form template is not
  autoescaped, so an unchecked redirect_uri is both an id_token leak and an HTML
  injection. The harness checks all of these.
- Token endpoint: the client assertion's signature is checked (``verify_aud`` is off), but
  not iss = sub = client_id, not aud = the token endpoint, not that exp/iat/jti are present,
  and jti is never remembered (an assertion can be replayed). The tool's JWKS is cached on
  the Registration for good, so a rotated tool key would never be fetched. The harness
  checks the claims, refuses a reused jti and builds a fresh configuration per request.
- Services: the bearer check grants a call if the token has *any* of the service's scopes
  (a result.readonly token may post scores), and a bad or expired token raises instead of
  answering 401. The harness requires the call's own scope and answers 401. The score
  body is not validated (a TODO in the library); the harness checks the media type and
  the required fields (AGS 2.0 §3.4).
- NRPS: a next page is linked only when the tool sent ``limit``, so a platform's own default
  page size would silently drop members; ``page`` arrives from the query as a string and the
  library computes ``page + 1`` (a TypeError with its own Django adapter). The harness
  turns page/limit into numbers and supplies the platform's page size.
- Deep Linking: the response's signature, message type and item types (a platform-wide list)
  are checked, not its aud, iss, deployment_id, nonce or the echoed ``data``, nor the
  request's accept_types. ``data`` is typed as a dict; the spec makes it an opaque string.
  The harness checks all of these.
- AGS claim: with a lineitem but no lineitems URL the library means to leave only the score
  scope, but removes from the list while iterating it, so result.readonly survives; these
  tests always send the lineitems URL.
- Its launch form comes from lti1p3platform.framework.templates, which imports
  pkg_resources (gone from recent setuptools); pinned at 0.1.8 for that reason too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urljoin

import jwt
import pytest
import requests
from sqlalchemy import select

from service.lti import advantage, keys, platforms
from service.models import (
    Assignment,
    Course,
    Enrollment,
    LtiIdentity,
    LtiPlatform,
    LtiResourceLink,
    LtiScoreSend,
    Role,
    ScoreSendStatus,
    User,
)
from tests.integration.stack import Stack, csrf_from, wait_for_status
from tests.integration.test_pipeline import _form, _reference_answers
from tests.lti.conftest import Tool
from tests.lti.independent_platform import (
    DL,
    INSTRUCTOR,
    LEARNER,
    ROSTER_SCOPE,
    SCORE_SCOPE,
    IndependentPlatform,
)
from tests.lti.platform import key_pair, parse_form
from tests.lti.test_deep_linking_and_roster import _course_with_assignment, _sync_roster
from tests.lti.test_key_rotation import _end_grace
from tests.lti.test_launch import _count
from tests.lti.test_roster_last_instructor import _roles


@pytest.fixture
def lms(tool: Tool, db_session) -> Iterator[IndependentPlatform]:
    """The library's platform, started and registered with the tool as an admin would."""
    platform = IndependentPlatform(tool_base_url=tool.base_url).start()
    platforms.register(db_session, name="Independent LMS", **platform.for_mixgrade())
    yield platform
    platform.stop()


def _go(tool_base: str, response: requests.Response) -> str:
    return urljoin(tool_base + "/", response.headers["Location"])


def _picked(base_url: str, lms: IndependentPlatform, email: str, assignment_id: int):
    """The instructor with local account ``email`` (linked by email) launches Deep Linking
    and picks the assignment; returns the form our page posts back to the LMS."""
    browser = requests.Session()
    start = lms.prepare("lms-prof", [INSTRUCTOR], email=email, name="Prof Ada", deep_linking=True)
    launched, _ = lms.launch(start, browser)
    assert launched.status_code == 302, launched.text
    picker = browser.get(_go(base_url, launched), timeout=10)
    assert picker.status_code == 200, picker.text
    chosen = browser.post(
        picker.url,
        data={"assignment_id": assignment_id, "csrf_token": csrf_from(picker.text)},
        timeout=10,
    )
    assert chosen.status_code == 200, chosen.text
    action, fields = parse_form(chosen.text)
    assert action == f"{lms.base_url}/deep_link_return"
    return action, fields


def _deep_link_return(
    tool: Tool, lms: IndependentPlatform, db_session
) -> tuple[Course, Assignment, str, dict[str, str]]:
    """A course with an assignment, picked in Deep Linking by its instructor; the course,
    the assignment and the form going back to the LMS (action and fields)."""
    course, assignment = _course_with_assignment(db_session)
    db_session.scalar(select(LtiPlatform)).link_by_email = True  # the admin turned it on
    db_session.commit()
    action, fields = _picked(tool.base_url, lms, "prof@uni.edu", assignment.id)
    return course, assignment, action, fields


def _student_launch(lms: IndependentPlatform, link: dict, *, names_line_item: bool = True) -> str:
    """A student's launch of a placed link (as the LMS makes it, with its custom parameters)."""
    return lms.prepare(
        "lms-stu",
        [LEARNER],
        email="stu@uni.edu",
        name="Stu Dent",
        resource_link_id=link["resource_link_id"],
        custom=link["item"]["custom"],
        lineitem_url=link["lineitem"] if names_line_item else None,
    )


def _place(tool: Tool, lms: IndependentPlatform, db_session) -> tuple[Course, Assignment, dict]:
    """An assignment placed through Deep Linking, the LMS having accepted our response."""
    course, assignment, action, fields = _deep_link_return(tool, lms, db_session)
    placed = requests.post(action, data=fields, timeout=10)
    assert placed.status_code == 200 and placed.text == "placed", placed.text
    return course, assignment, lms.placements[-1]


def test_deep_linking_response_is_accepted_by_the_library(tool, lms, db_session):
    _, assignment, placement = _place(tool, lms, db_session)
    claims = placement["claims"]
    # The library verified the signature against /lti/jwks and the message type; the
    # harness the aud, iss, deployment and echoed data.
    assert claims["iss"] == lms.client_id and claims["aud"] == lms.issuer
    [request] = [p for p in lms.prepared.values() if p.deep_linking]
    assert claims[DL + "data"] == request.data
    [link] = placement["links"]
    item = link["item"]
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == f"{tool.base_url}/lti/launch"
    assert item["custom"] == {"assignment_id": str(assignment.id)}
    assert item["lineItem"]["scoreMaximum"] == 12
    assert item["lineItem"]["label"] == assignment.title
    assert link["lineitem"] == lms.lineitem_url("1")
    # What the library's login initiation and our auth request carried.
    [auth] = lms.auth_requests
    assert auth["client_id"] == lms.client_id and auth["prompt"] == "none"
    assert lms.refusals == []


def test_the_library_refuses_a_deep_linking_response_we_did_not_sign(tool, lms, db_session):
    """The check above can fail: the same response signed by a stranger with our kid."""
    _, _, action, fields = _deep_link_return(tool, lms, db_session)
    ours = fields["JWT"]
    stranger, _ = key_pair()
    forged = jwt.encode(
        jwt.decode(ours, options={"verify_signature": False}),
        stranger,
        algorithm="RS256",
        headers={"kid": jwt.get_unverified_header(ours)["kid"]},
    )
    refused = requests.post(action, data={"JWT": forged}, timeout=10)
    assert refused.status_code in (400, 401) and "Signature verification failed" in refused.text
    assert lms.placements == []


def test_a_student_launch_ends_logged_in_on_the_assignment(tool, lms, db_session):
    course, assignment, placement = _place(tool, lms, db_session)
    [link] = placement["links"]
    start = _student_launch(lms, link)
    browser = requests.Session()  # carries cookies (the login-binding one too) like a browser
    launched, _ = lms.launch(start, browser)
    assert launched.status_code == 302, launched.text
    where = _go(tool.base_url, launched)
    assert where.endswith(f"/courses/{course.id}")  # two problems: the course's page
    page = browser.get(where, allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.headers.get("Location")
    assert assignment.title in page.text and "Stu Dent" in page.text
    db_session.expire_all()
    student = db_session.scalar(
        select(User).join(LtiIdentity).where(LtiIdentity.subject == "lms-stu")
    )
    assert student.role == Role.student
    assert (
        db_session.scalar(
            select(Enrollment.role).where(
                Enrollment.user_id == student.id, Enrollment.course_id == course.id
            )
        )
        == Role.student
    )


def test_roster_sync_through_the_library_nrps(tool, lms, db_session):
    browser = requests.Session()
    teacher = lms.prepare("lms-teach", [INSTRUCTOR], email="teach@uni.edu", name="Teach")
    launched, _ = lms.launch(teacher, browser)
    assert launched.status_code == 302, launched.text
    leaver = lms.prepare("lms-leaver", [LEARNER], email="leaver@uni.edu")
    assert lms.launch(leaver)[0].status_code == 404  # enrolled (the link is not placed yet)
    lms.members = [
        {"user_id": "lms-teach", "roles": [INSTRUCTOR], "name": "Teach"},
        {"user_id": "m-1", "roles": [LEARNER], "email": "m1@uni.edu", "name": "Mia One"},
        {"user_id": "m-2", "roles": [LEARNER], "email": "m2@uni.edu", "name": "Max Two"},
        {"user_id": "m-3", "roles": [LEARNER], "given_name": "No", "family_name": "Email"},
        {"user_id": "lms-leaver", "roles": [LEARNER], "status": "Deleted"},
    ]
    course_id, synced = _sync_roster(tool.base_url, browser, launched.headers["Location"])
    # Five members on three pages of two: all of them were read.
    assert "3 added, 0 role changes, 1 removed" in synced.text, synced.text
    roles = _roles(db_session, course_id)
    assert roles.pop("teach@uni.edu") == Role.instructor
    assert roles.pop("m1@uni.edu") == roles.pop("m2@uni.edu") == Role.student
    assert "leaver@uni.edu" not in roles and list(roles.values()) == [Role.student]
    assert {"asked": ROSTER_SCOPE, "granted": ROSTER_SCOPE} in lms.token_requests
    assert lms.refusals == []


REFUSED = [
    ("stranger key, platform's kid", {"stranger_key": "platform-kid"}, 401, "does not verify"),
    ("stranger key, own kid", {"stranger_key": "unknown-kid"}, 401, "does not publish"),
    ("wrong deployment", {"deployment_id": "deployment-x"}, 403, "Unknown deployment"),
]


@pytest.mark.parametrize(
    ("case", "spoil", "status", "message"), REFUSED, ids=[r[0] for r in REFUSED]
)
def test_refused_launches_write_nothing(tool, lms, db_session, case, spoil, status, message):
    before = [_count(db_session, m) for m in (User, Course, LtiIdentity)]
    start = lms.prepare("lms-mallory", [LEARNER], email="mallory@uni.edu", **spoil)
    refused, _ = lms.launch(start)
    assert refused.status_code == status, refused.text
    assert message in refused.text
    assert [_count(db_session, m) for m in (User, Course, LtiIdentity)] == before


def test_a_replayed_state_is_refused(tool, lms, db_session):
    browser = requests.Session()
    start = lms.prepare("lms-bo", [LEARNER], email="bo@uni.edu")
    first, fields = lms.launch(start, browser)
    assert first.status_code == 404  # accepted: the link is not placed yet
    users = _count(db_session, User)
    again = browser.post(f"{tool.base_url}/lti/launch", data=fields, allow_redirects=False)
    assert again.status_code == 401 and "already used" in again.text
    assert _count(db_session, User) == users


def test_a_launch_posted_from_another_browser_is_refused(tool, lms, db_session):
    """Login CSRF (issue 12 §3): Mallory starts a launch and has Alice's browser post it."""
    mallory = requests.Session()
    start = lms.prepare("lms-mallory", [LEARNER], email="mallory@uni.edu")
    refused, action, fields = lms.launch_form(start, mallory)
    assert refused is None
    alice = requests.Session()
    posted = alice.post(action, data=fields, allow_redirects=False, timeout=30)
    assert posted.status_code == 401 and "did not start in this browser" in posted.text
    assert not db_session.scalars(
        select(LtiIdentity).where(LtiIdentity.subject == "lms-mallory")
    ).all()
    # The browser that started it still can (the refusal spent nothing).
    launched = mallory.post(action, data=fields, allow_redirects=False, timeout=30)
    assert launched.status_code == 404, launched.text  # accepted; the link is not placed


INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"


def test_institution_and_system_roles_do_not_make_a_student_teach(tool, lms, db_session):
    """Issue 12 §1: the library sends what Canvas does for a student who teaches elsewhere."""
    start = lms.prepare(
        "lms-ta",
        [
            LEARNER,
            INSTITUTION + "Instructor",
            INSTITUTION + "Faculty",
            "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
        ],
        email="ta@uni.edu",
    )
    launched, _ = lms.launch(start)
    assert launched.status_code == 404  # a student, whose link is not placed yet
    db_session.expire_all()
    user = db_session.scalar(select(User).join(LtiIdentity).where(LtiIdentity.subject == "lms-ta"))
    assert user.role == Role.student
    assert db_session.scalar(select(Enrollment.role).where(Enrollment.user_id == user.id)) == (
        Role.student
    )


def test_a_launch_does_not_take_a_local_account_by_its_email(tool, lms, db_session):
    """Issue 12 §1: linking by email is off unless the admin turns it on for the platform."""
    admin = User(email="root@uni.edu", name="Site Admin", role=Role.admin)
    db_session.add(admin)
    db_session.commit()
    start = lms.prepare("lms-root", [INSTRUCTOR], email="root@uni.edu", name="Not Root")
    launched, _ = lms.launch(start)
    assert launched.status_code == 302, launched.text
    db_session.expire_all()
    user = db_session.scalar(
        select(User).join(LtiIdentity).where(LtiIdentity.subject == "lms-root")
    )
    assert user.id != admin.id and user.role == Role.student
    assert db_session.get(User, admin.id).name == "Site Admin"


def test_a_link_to_another_courses_assignment_is_refused_and_writes_nothing(tool, lms, db_session):
    """Issue 12 §2: custom.assignment_id naming an assignment of a course this LMS course
    is not linked to: refused before anything is written (no link row, so no score)."""
    _, assignment = _course_with_assignment(db_session)
    before = [_count(db_session, m) for m in (User, Course, LtiResourceLink)]
    start = lms.prepare(
        "lms-stu",
        [LEARNER],
        email="stu@uni.edu",
        custom={"assignment_id": str(assignment.id)},
        lineitem_url=lms.lineitem_url("9"),
    )
    refused, _ = lms.launch(start)
    assert refused.status_code == 409 and "another course" in refused.text
    assert [_count(db_session, m) for m in (User, Course, LtiResourceLink)] == before


def test_deep_linking_that_accepts_no_resource_link_is_refused_in_words(tool, lms, db_session):
    """Issue 12 §5: a placement accepting only plain links gets no resource link back."""
    _course_with_assignment(db_session)
    db_session.scalar(select(LtiPlatform)).link_by_email = True
    db_session.commit()
    start = lms.prepare(
        "lms-prof", [INSTRUCTOR], email="prof@uni.edu", deep_linking=True, accept_types=("link",)
    )
    refused, _ = lms.launch(start)
    assert refused.status_code == 400, refused.text
    assert "mixgrade places only LTI resource links" in refused.text
    assert lms.placements == []


def _ask_token(lms: IndependentPlatform, assertion: str) -> requests.Response:
    """The client-credentials grant, posted to the library's token endpoint."""
    return requests.post(
        lms.token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": SCORE_SCOPE,
        },
        timeout=10,
    )


def test_the_library_token_endpoint_refuses_a_stranger_assertion(tool, lms, db_session):
    """The token endpoint's check can fail: an assertion signed by a stranger with our kid."""
    kid = requests.get(f"{tool.base_url}/lti/jwks", timeout=10).json()["keys"][0]["kid"]
    stranger, _ = key_pair()
    now = int(time.time())
    assertion = jwt.encode(
        {"iss": lms.client_id, "sub": lms.client_id, "aud": lms.token_url, "iat": now,
         "exp": now + 60, "jti": "j-1"},
        stranger, algorithm="RS256", headers={"kid": kid},
    )  # fmt: skip
    refused = _ask_token(lms, assertion)
    assert refused.status_code == 401 and "invalid_client" in refused.text
    assert lms.token_requests == []


def test_key_rotation_as_the_library_token_endpoint_sees_it(app, tool, lms, db_session):
    """Issue 12 §6 (`mixgrade lti rotate-key`): the library fetches /lti/jwks for each grant
    here (the harness's fresh config; the library alone would keep the first JWKS for good).
    An assertion signed just before the rotation is accepted during the grace, mixgrade's
    own grant after it signs with the new key, and once the grace ends the old key is gone."""
    claims = {"iss": lms.client_id, "sub": lms.client_id, "aud": lms.token_url}
    with app.app_context():
        early, late = keys.sign(db_session, claims), keys.sign(db_session, claims)
        old_kid = jwt.get_unverified_header(early)["kid"]
        rotation = keys.rotate(db_session, timedelta(days=7))
        platform = db_session.scalar(select(LtiPlatform))
        assert advantage.access_token(db_session, platform, [SCORE_SCOPE])
    assert rotation.new.kid != old_kid
    assert _ask_token(lms, early).status_code == 200
    _end_grace(db_session, old_kid)
    refused = _ask_token(lms, late)
    assert refused.status_code == 401 and "Unable to find public key" in refused.text
    assert [r["granted"] for r in lms.token_requests] == [SCORE_SCOPE, SCORE_SCOPE]


# ------------------------------------------------- a graded score through real processes


LINE_ITEM_CLAIMS = [
    pytest.param(True, id="launch names the line item"),
    pytest.param(False, id="launch gives only the line items URL"),
]


@pytest.mark.parametrize("names_line_item", LINE_ITEM_CLAIMS)
def test_a_graded_submission_reaches_the_library_gradebook(stack: Stack, names_line_item: bool):
    """`mixgrade serve` and `mixgrade worker`: placed, launched, submitted, graded, posted.

    The LMS made a line item for the placed link (from our Deep Linking lineItem); its
    launches either name it (``lineitem``) or give only the ``lineitems`` URL, where the
    tool must find it (or make one) for the link itself.
    """
    stack.start_worker("worker", "--concurrency=1", MIXGRADE_LTI_RETRY_BASE="0.3")
    stack.start_web()
    lms = IndependentPlatform(tool_base_url=stack.base_url).start()
    try:
        _graded_round_trip(stack, lms, names_line_item)
    finally:
        lms.stop()


def _graded_round_trip(stack: Stack, lms: IndependentPlatform, names_line_item: bool) -> None:
    with stack.session() as session:
        platforms.register(
            session, name="Independent LMS", link_by_email=True, **lms.for_mixgrade()
        )
        assignment = session.scalar(select(Assignment).order_by(Assignment.id))
        assignment_id, first_item = assignment.id, assignment.assignment_problems[0].id
        possible = sum(i.points for i in assignment.assignment_problems)
        first_points = assignment.assignment_problems[0].points

    action, fields = _picked(stack.base_url, lms, "instructor@demo.mixgrade", assignment_id)
    assert requests.post(action, data=fields, timeout=10).text == "placed"
    [link] = lms.placements[0]["links"]

    student = requests.Session()
    start = _student_launch(lms, link, names_line_item=names_line_item)
    launched, _ = lms.launch(start, student)
    assert launched.status_code == 302, launched.text
    page = student.get(f"{stack.base_url}/items/{first_item}", timeout=30)
    assert page.status_code == 200
    answers, parts = _reference_answers(stack, first_item, "stu@uni.edu")
    submitted = student.post(
        f"{stack.base_url}/items/{first_item}/submit",
        data=_form(answers, parts, csrf_from(page.text)),
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert submitted.status_code == 202, submitted.text
    status_url = stack.base_url + submitted.json()["status_url"]
    assert wait_for_status(student, status_url, {"graded"})["score"] == pytest.approx(1.0)

    try:
        [score] = lms.wait_for_scores(1, timeout=45 if names_line_item else 20)
    except AssertionError as error:
        raise AssertionError(f"{error}\nworker log:\n{stack.log('worker')}") from None
    # At the placed link's line item (the one the LMS made, or one the tool made for it).
    assert lms.lineitems[score["lineitem"]]["resourceLinkId"] == link["resource_link_id"]
    assert score["userId"] == "lms-stu"
    assert score["scoreMaximum"] == pytest.approx(possible)
    assert score["scoreGiven"] == pytest.approx(first_points, rel=1e-3)
    assert score["gradingProgress"] == "FullyGraded"
    # Our client assertion was accepted by the library's token endpoint.
    assert any(SCORE_SCOPE in r["granted"].split() for r in lms.token_requests)
    assert lms.refusals == []

    deadline = time.monotonic() + 15
    while True:
        with stack.session() as session:
            statuses = [
                (s.status, s.response_status) for s in session.scalars(select(LtiScoreSend))
            ]
        if statuses and all(s == ScoreSendStatus.sent for s, _ in statuses):
            break
        assert time.monotonic() < deadline, statuses
        time.sleep(0.2)
    assert statuses == [(ScoreSendStatus.sent, 200)]
