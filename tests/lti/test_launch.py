"""Launches from the simulated platform: provisioning, and every refusal leaves no trace."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.models import Course, Enrollment, LtiIdentity, Role, User
from tests.lti.platform import INSTRUCTOR, LEARNER, Platform


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_a_learner_launch_creates_the_user_course_and_enrollment(tool, platform, db_session):
    hint = platform.prepare(sub="s-1", roles=[LEARNER], email="Ann@Uni.edu", name="Ann Lee")
    response, _ = platform.launch(tool.base_url, hint)
    # The link is not placed yet: the student is told so, in words.
    assert response.status_code == 404
    assert "not set up yet" in response.text
    user = db_session.scalar(select(User).where(User.email == "ann@uni.edu"))
    assert user is not None and user.name == "Ann Lee" and user.role == Role.student
    enrollment = db_session.scalar(select(Enrollment).where(Enrollment.user_id == user.id))
    assert enrollment.role == Role.student
    assert enrollment.course.title == "Models 101"
    assert enrollment.course.code.startswith("STAT101-")


def test_an_instructor_launch_maps_the_role_and_lands_on_the_lms_page(tool, platform, db_session):
    hint = platform.prepare(sub="t-1", roles=[INSTRUCTOR], email="prof@uni.edu", name="Prof")
    response, _ = platform.launch(tool.base_url, hint)
    assert response.status_code == 302 and "/lti/courses/" in response.headers["Location"]
    user = db_session.scalar(select(User).where(User.email == "prof@uni.edu"))
    assert user.role == Role.student  # teaching this course is an enrollment, not a site role
    assert db_session.scalar(select(Enrollment.role).where(Enrollment.user_id == user.id)) == (
        Role.instructor
    )


SPOILED = [
    ("bad signature", {"sign_with_stranger_key": True}, 401, "signature does not verify"),
    ("expired token", {"exp_offset": -600}, 401, "expired"),
    ("wrong audience", {"audience": "some-other-tool"}, 401, "not addressed to us"),
    ("unknown deployment", {"deployment_id": "deployment-x"}, 403, "Unknown deployment"),
    ("missing role claim", {"roles": None}, 400, "no roles claim"),
]


@pytest.mark.parametrize(
    ("case", "spoil", "status", "message"), SPOILED, ids=[s[0] for s in SPOILED]
)
def test_refused_launches_say_why_and_create_nothing(
    tool, platform: Platform, db_session, case, spoil, status, message
):
    before = (_count(db_session, User), _count(db_session, Course), _count(db_session, LtiIdentity))
    roles = spoil.pop("roles", [LEARNER])
    hint = platform.prepare(sub=f"bad-{case}", roles=roles, email="mallory@uni.edu", **spoil)
    response, _ = platform.launch(tool.base_url, hint)
    assert response.status_code == status, response.text
    assert message in response.text
    after = (_count(db_session, User), _count(db_session, Course), _count(db_session, LtiIdentity))
    assert after == before
    assert db_session.scalar(select(User).where(User.email == "mallory@uni.edu")) is None


def test_a_replayed_launch_is_refused(tool, platform: Platform, db_session):
    import requests

    hint = platform.prepare(sub="s-2", roles=[LEARNER], email="bo@uni.edu")
    browser = requests.Session()
    first, fields = platform.launch(tool.base_url, hint, browser)
    assert first.status_code == 404  # accepted (the link is simply not placed yet)
    users = _count(db_session, User)
    replay = requests.post(f"{tool.base_url}/lti/launch", data=fields, allow_redirects=False)
    assert replay.status_code == 401
    assert "already used" in replay.text
    assert _count(db_session, User) == users


def test_login_from_an_unregistered_platform_is_refused(tool, platform: Platform):
    import requests

    response = requests.get(
        f"{tool.base_url}/lti/login",
        params={"iss": "https://stranger.example", "login_hint": "x"},
        allow_redirects=False,
    )
    assert response.status_code == 403
    assert "No platform is registered with issuer" in response.text


def test_jwks_publishes_our_public_key_only(tool):
    import requests

    keys = requests.get(f"{tool.base_url}/lti/jwks").json()["keys"]
    assert keys and keys[0]["kty"] == "RSA" and keys[0]["kid"]
    assert "d" not in keys[0] and "p" not in keys[0]


def test_a_launched_session_works_until_logout(tool, platform: Platform):
    """An LMS launch logs in like a password does (with the session epoch), so its
    session keeps working, and logging out ends it on the server."""
    import requests

    from tests.integration.stack import csrf_from

    hint = platform.prepare(sub="t-9", roles=[INSTRUCTOR], email="dean@uni.edu", name="Dean")
    browser = requests.Session()
    launched, _ = platform.launch(tool.base_url, hint, browser)
    course_page = f"{tool.base_url}{launched.headers['Location']}"
    page = browser.get(course_page, allow_redirects=False, timeout=10)
    assert page.status_code == 200
    saved = browser.cookies.get("session")
    token = csrf_from(page.text)
    browser.post(f"{tool.base_url}/logout", data={"csrf_token": token}, timeout=10)
    replayed = requests.get(
        course_page, cookies={"session": saved}, allow_redirects=False, timeout=10
    )
    assert replayed.status_code == 302 and "/login" in replayed.headers["Location"]
