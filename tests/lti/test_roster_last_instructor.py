"""A roster sync never demotes or removes the last instructor (services.enrollments)."""

from __future__ import annotations

import re

import requests
from sqlalchemy import select

from service.models import Enrollment, Role
from tests.lti.platform import INSTRUCTOR, LEARNER, Platform


def _sync(tool, platform: Platform, members: list[dict]) -> tuple[str, int]:
    browser = requests.Session()
    hint = platform.prepare(sub="prof-1", roles=[INSTRUCTOR], email="prof@uni.edu")
    response, _ = platform.launch(tool.base_url, hint, browser)
    assert response.status_code == 302
    course_page = response.headers["Location"]
    course_id = int(re.search(r"/lti/courses/(\d+)", course_page).group(1))
    page = browser.get(tool.base_url + course_page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    platform.members = members
    synced = browser.post(
        f"{tool.base_url}/lti/courses/{course_id}/roster-sync",
        data={"csrf_token": token},
        allow_redirects=False,
    )
    assert synced.status_code == 302
    # The report is flashed; the home page shows it even to someone who no longer teaches.
    return browser.get(f"{tool.base_url}/").text, course_id


def _roles(db_session, course_id: int) -> dict[str, Role]:
    db_session.expire_all()
    rows = db_session.scalars(select(Enrollment).where(Enrollment.course_id == course_id))
    return {e.user.email: e.role for e in rows}


def test_the_lms_cannot_demote_or_remove_the_last_instructor(tool, platform, db_session):
    text, course_id = _sync(
        tool,
        platform,
        [
            {"user_id": "prof-1", "roles": [LEARNER], "email": "prof@uni.edu"},
            {"user_id": "m-1", "roles": [LEARNER], "email": "m1@uni.edu"},
        ],
    )
    assert "kept prof@uni.edu as the last instructor" in text, text
    assert _roles(db_session, course_id)["prof@uni.edu"] == Role.instructor

    deleted = [{"user_id": "prof-1", "roles": [LEARNER], "status": "Deleted"}]
    text, course_id = _sync(tool, platform, deleted)
    assert "kept prof-1 as the last instructor" in text, text
    assert _roles(db_session, course_id)["prof@uni.edu"] == Role.instructor


def test_a_new_instructor_in_the_same_roster_lets_the_old_one_step_down(tool, platform, db_session):
    text, course_id = _sync(
        tool,
        platform,
        [
            {"user_id": "prof-1", "roles": [LEARNER], "email": "prof@uni.edu"},
            {"user_id": "prof-2", "roles": [INSTRUCTOR], "email": "new@uni.edu"},
        ],
    )
    assert "1 added, 1 role changes, 0 removed, 0 skipped." in text, text
    roles = _roles(db_session, course_id)
    assert roles["prof@uni.edu"] == Role.student
    assert roles["new@uni.edu"] == Role.instructor
