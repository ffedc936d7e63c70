"""AGS as the spec says: line items found or made by the send worker, granted scopes
checked before each call, and one access token reused for many scores.

The student launches from the simulated LMS over real HTTP; the test then runs what the
send task runs (``passback.deliver``) and looks at what reached the LMS.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest
from flask import Flask, jsonify
from sqlalchemy import select

from service import passwords
from service.lti import advantage, lineitems, passback
from service.models import (
    LtiContext,
    LtiIdentity,
    LtiPlatform,
    LtiResourceLink,
    LtiScoreSend,
    ScoreSendStatus,
    User,
)
from tests.api.conftest import ApiWorld, build_api_world
from tests.conftest import login, settings_on
from tests.lti.platform import (
    LEARNER,
    LINEITEM_READ_SCOPE,
    LINEITEM_SCOPE,
    SCORE_SCOPE,
    Platform,
)
from tests.lti.test_passback import _graded


@pytest.fixture
def settings(request, tmp_path):
    """SQLite unless a test asks for PostgreSQL too (the race between two workers)."""
    return settings_on(getattr(request, "param", "sqlite"), request, tmp_path)


@pytest.fixture(autouse=True)
def _no_cached_tokens():
    advantage.forget_tokens()  # ports are reused between tests; each LMS starts unknown
    yield
    advantage.forget_tokens()


@dataclass
class Course:
    """The world's course placed in the simulated LMS course, and how to grade in it."""

    app: Flask
    world: ApiWorld
    tool_url: str
    lms: Platform

    def student(
        self, session, sub: str = "stu-1", link: str = "link-1", status: int = 302, **claims
    ) -> User:
        """A student launched from ``link`` (which opens the world's assignment)."""
        claims.setdefault("custom", {"assignment_id": str(self.world.assignment.id)})
        hint = self.lms.prepare(sub=sub, roles=[LEARNER], resource_link_id=link, **claims)
        response, _ = self.lms.launch(self.tool_url, hint)
        assert response.status_code == status, response.text
        session.expire_all()
        return session.scalar(select(LtiIdentity).where(LtiIdentity.subject == sub)).user

    def graded(self, session, student: User, score: float = 1.0) -> list[int]:
        """The score sends recorded when ``student``'s submission is graded."""
        ids = passback.after_graded(session, _graded(session, self.world, score, student))
        session.commit()
        return ids

    def deliver(self, session, send_id: int) -> str:
        with self.app.app_context():
            return passback.deliver(session, send_id)


@pytest.fixture
def course(app, tool, platform: Platform, db_session) -> Course:
    world = build_api_world(db_session)
    db_session.add(
        LtiContext(
            platform=db_session.scalar(select(LtiPlatform)),
            deployment_id=platform.deployment_id,
            context_id=platform.context_id,
            course=world.course,
        )
    )
    db_session.commit()
    return Course(app, world, tool.base_url, platform)


def _row(session, send_id: int) -> LtiScoreSend:
    session.expire_all()
    return session.get(LtiScoreSend, send_id)


def _link(session, link_id: str = "link-1") -> LtiResourceLink:
    session.expire_all()
    return session.scalar(
        select(LtiResourceLink).where(LtiResourceLink.resource_link_id == link_id)
    )


# ------------------------------------------------------------------------- line items


def test_a_link_without_a_line_item_gets_one_made_by_the_worker(course: Course, db_session):
    lms = course.lms
    alice = course.student(db_session)
    # The launch asked the LMS for nothing: the line item is the worker's job.
    assert lms.token_requests == [] and lms.lineitem_posts == []
    [first] = course.graded(db_session, alice)
    assert _row(db_session, first).lineitem_url is None
    assert course.deliver(db_session, first) == "sent"

    assignment = course.world.assignment
    assert lms.lineitem_posts == [
        {
            "scoreMaximum": 10,
            "label": "Homework 1",
            "resourceLinkId": "link-1",
            "resourceId": f"mixgrade-assignment-{assignment.id}",
            "tag": "mixgrade",
        }
    ]
    made = lms.lineitem_url(101)
    assert _link(db_session).lineitem_url == made
    assert _row(db_session, first).lineitem_url == made
    assert [(s["lineitem"], s["userId"]) for s in lms.scores] == [(101, "stu-1")]

    # The next student's score goes to the same column: no second line item.
    bob = course.student(db_session, sub="stu-2")
    [second] = course.graded(db_session, bob)
    assert _row(db_session, second).lineitem_url == made  # known when it was recorded
    assert course.deliver(db_session, second) == "sent"
    assert len(lms.lineitem_posts) == 1
    assert [s["lineitem"] for s in lms.scores] == [101, 101]


def test_the_links_own_line_item_is_found_even_if_the_lms_ignores_the_filter(
    course: Course, db_session
):
    lms = course.lms
    ours = f"mixgrade-assignment-{course.world.assignment.id}"
    lms.add_lineitem(4, resourceLinkId="another-link", resourceId=ours, label="x", scoreMaximum=1)
    lms.add_lineitem(5, resourceLinkId="link-1", resourceId="mixgrade-assignment-999", label="y")
    lms.add_lineitem(6, resourceLinkId="link-1", resourceId=ours, label="Homework 1")
    lms.answers["lineitems"] = lambda: jsonify(lms.lineitems)  # every item, unfiltered
    [send] = course.graded(db_session, course.student(db_session))
    assert course.deliver(db_session, send) == "sent"
    assert lms.lineitem_posts == []
    assert [s["lineitem"] for s in lms.scores] == [6]
    assert _link(db_session).lineitem_url == lms.lineitem_url(6)


@pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
def test_two_sends_racing_make_one_line_item(course: Course, app, db_session):
    lms = course.lms
    lms.lineitem_delay = 0.5  # both workers would be inside the GET at the same time
    ids = [
        course.graded(db_session, course.student(db_session, sub=sub))[0]
        for sub in ("stu-1", "stu-2")
    ]
    start = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def worker(send_id: int) -> None:
        session = app.extensions["mixgrade.sessions"]()
        try:
            start.wait()
            outcomes[send_id] = course.deliver(session, send_id)
        except lineitems.LineItemPending as pending:
            outcomes[send_id] = f"pending: {pending}"
        finally:
            session.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(o.split(":")[0] for o in outcomes.values()) == ["pending", "sent"], outcomes
    assert len(lms.lineitem_posts) == 1
    [waiting] = [i for i, o in outcomes.items() if o.startswith("pending")]
    row = _row(db_session, waiting)
    assert row.status == ScoreSendStatus.pending and "another worker" in row.last_error
    # The task's retry finds the stored line item.
    assert course.deliver(db_session, waiting) == "sent"
    assert len(lms.lineitem_posts) == 1
    assert [s["lineitem"] for s in lms.scores] == [101, 101]
    assert _link(db_session).lineitem_claimed_at is None


def test_a_stale_claim_does_not_block_the_link(course: Course, db_session):
    """A worker killed while making the line item: once its claim is stale, the next one
    looks first, and finds the column the killed worker had already made."""
    lms = course.lms
    [send] = course.graded(db_session, course.student(db_session))
    link = _link(db_session)
    from service.models import utcnow

    link.lineitem_claimed_at = utcnow()
    db_session.commit()
    with pytest.raises(lineitems.LineItemPending):
        course.deliver(db_session, send)
    ours = f"mixgrade-assignment-{course.world.assignment.id}"
    lms.add_lineitem(9, resourceLinkId="link-1", resourceId=ours, label="Homework 1")
    from datetime import timedelta

    link = _link(db_session)
    link.lineitem_claimed_at = utcnow() - timedelta(seconds=lineitems.CLAIM_SECONDS + 1)
    db_session.commit()
    assert course.deliver(db_session, send) == "sent"
    assert lms.lineitem_posts == [] and [s["lineitem"] for s in lms.scores] == [9]


def test_a_link_that_opens_no_assignment_gets_no_line_item(course: Course, db_session):
    lms = course.lms
    # A link placed without an assignment: the student is told so, and is in the course.
    alice = course.student(db_session, link="bare-link", custom={}, status=404)
    assert course.graded(db_session, alice) == []  # the bare link grades nothing
    [send] = course.graded(db_session, course.student(db_session, sub="stu-2"), 0.5)
    link = _link(db_session)
    link.assignment_id = None  # the link was pointed away before its first score went
    db_session.commit()
    assert course.deliver(db_session, send) == "refused"
    row = _row(db_session, send)
    assert row.status == ScoreSendStatus.failed
    assert "opens no mixgrade assignment" in row.last_error
    assert lms.lineitem_posts == [] and lms.scores == [] and lms.token_requests == []


# ---------------------------------------------------------------------------- scopes


@pytest.mark.parametrize(
    ("granted", "reason"),
    [
        ([LINEITEM_SCOPE], "to post a score (score)"),
        ([], "to post a score (score) in this link's launches (granted: none)"),
        ([SCORE_SCOPE], "to read line items (lineitem or lineitem.readonly)"),
    ],
)
def test_no_call_is_made_without_its_scope(course: Course, db_session, granted, reason):
    [send] = course.graded(db_session, course.student(db_session, ags_scope=granted))
    assert course.deliver(db_session, send) == "refused"
    row = _row(db_session, send)
    assert row.status == ScoreSendStatus.failed and row.tries == 1
    assert reason in row.last_error, row.last_error
    lms = course.lms
    assert lms.token_requests == [] and lms.lineitem_posts == [] and lms.scores == []


def test_read_only_line_items_are_used_but_not_created(course: Course, db_session):
    lms = course.lms
    granted = [SCORE_SCOPE, LINEITEM_READ_SCOPE]
    [send] = course.graded(db_session, course.student(db_session, ags_scope=granted))
    assert course.deliver(db_session, send) == "refused"
    row = _row(db_session, send)
    assert "no lineitem scope" in row.last_error and row.status == ScoreSendStatus.failed
    assert lms.lineitem_posts == [] and lms.scores == []
    assert {"scopes": [LINEITEM_READ_SCOPE]} in lms.token_requests
    assert _link(db_session).lineitem_claimed_at is None  # released for a later try

    # The instructor adds the column in the LMS and sends again: it is found and used.
    lms.add_lineitem(3, resourceLinkId="link-1", label="Homework 1", scoreMaximum=10)
    passback.resend_unsent(db_session, include_failed=True)
    assert course.deliver(db_session, send) == "sent"
    assert [s["lineitem"] for s in lms.scores] == [3]


def test_the_course_page_says_why_a_score_did_not_go(course: Course, client, db_session):
    [send] = course.graded(db_session, course.student(db_session, ags_scope=[LINEITEM_SCOPE]))
    course.deliver(db_session, send)
    passwords.set_password(course.world.users["teacher"], "correct horse")
    db_session.commit()
    assert login(client, "teacher@api.test", "correct horse").status_code == 302
    page = client.get(f"/lti/courses/{course.world.course.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    assert "status-failed" in text and "did not grant the AGS scope to post a score" in text


# ---------------------------------------------------------------------------- tokens


def test_many_scores_share_one_access_token(course: Course, app, db_session):
    lms = course.lms
    sends = [
        course.graded(
            db_session, course.student(db_session, sub=f"s-{n}", lineitem=lms.lineitem_url(1))
        )[0]
        for n in range(5)
    ]
    assert [course.deliver(db_session, i) for i in sends[:2]] == ["sent", "sent"]
    # Three workers at once on an empty cache still make one token request.
    advantage.forget_tokens()
    lms.token_requests.clear()
    start = threading.Barrier(3)
    results: list[str] = []

    def worker(send_id: int) -> None:
        session = app.extensions["mixgrade.sessions"]()
        try:
            start.wait()
            results.append(course.deliver(session, send_id))
        finally:
            session.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in sends[2:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == ["sent"] * 3
    assert lms.token_requests == [{"scopes": [SCORE_SCOPE]}]
    assert len(lms.scores) == 5


def test_a_token_the_lms_dropped_is_fetched_again_once(course: Course, db_session):
    lms = course.lms
    student = course.student(db_session, lineitem=lms.lineitem_url(1))
    first, second = (course.graded(db_session, student, s)[0] for s in (0.5, 1.0))
    assert course.deliver(db_session, first) == "sent"
    lms.revoke_tokens()  # the LMS restarted and forgot its tokens
    assert course.deliver(db_session, second) == "sent"
    assert len(lms.token_requests) == 2 and len(lms.scores) == 2

    # An LMS that refuses even a new token: refused after one new try, not a loop.
    lms.answers["score"] = lambda: ("token not accepted", 401)
    third = course.graded(db_session, student, 0.0)[0]
    assert course.deliver(db_session, third) == "refused"
    assert len(lms.token_requests) == 3
    assert "HTTP 401" in _row(db_session, third).last_error


def test_a_token_is_not_used_past_its_lifetime(course: Course, db_session):
    lms = course.lms
    lms.token_lifetime = 1  # reused for 0.9 s (a tenth is kept as a margin)
    student = course.student(db_session, lineitem=lms.lineitem_url(1))
    first, second, third = (course.graded(db_session, student, s)[0] for s in (0.2, 0.4, 0.6))
    assert course.deliver(db_session, first) == "sent"
    assert course.deliver(db_session, second) == "sent"
    assert len(lms.token_requests) == 1
    time.sleep(1.0)
    assert course.deliver(db_session, third) == "sent"
    assert len(lms.token_requests) == 2


# ------------------------------------------------------------ broken line-item answers

BROKEN_LINEITEMS = {
    "an HTML page for the list": (
        "lineitems",
        lambda: ("<html>\n<p>maintenance</p></html>", 200, {"Content-Type": "text/html"}),
        "(page 1) answered HTTP 200 with text/html, not JSON",
    ),
    "an object for the list": (
        "lineitems",
        lambda: jsonify(lineItems=[]),
        "the answer is not a list of line items",
    ),
    "a listed item without an id": (
        "lineitems",
        lambda: jsonify([{"resourceLinkId": "link-1", "label": "x"}]),
        "a line item has no id URL",
    ),
    "a created item without an id": (
        "lineitem_post",
        lambda: (jsonify(label="Homework 1"), 201),
        "the answer has no line item id URL",
    ),
    "a created item on another host": (
        "lineitem_post",
        lambda: (jsonify(id="https://evil.example/lineitems/1"), 201),
        "line item id 'https://evil.example/lineitems/1' is not a URL on the service's origin",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN_LINEITEMS))
def test_a_broken_line_item_answer_fails_the_send_with_its_reason(course: Course, db_session, case):
    route, answer, reason = BROKEN_LINEITEMS[case]
    course.lms.answers[route] = answer
    [send] = course.graded(db_session, course.student(db_session))
    assert course.deliver(db_session, send) == "refused"
    row = _row(db_session, send)
    assert row.status == ScoreSendStatus.failed and reason in row.last_error, row.last_error
    assert "\n" not in row.last_error
    link = _link(db_session)
    assert link.lineitem_url is None and link.lineitem_claimed_at is None
    assert course.lms.scores == []
