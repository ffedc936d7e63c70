"""Deep Linking places an assignment with its line item; a roster sync mirrors the LMS."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import requests
from sqlalchemy import select

from service.lti.launch import CUSTOM
from service.models import (
    Assignment,
    AssignmentProblem,
    Course,
    Enrollment,
    LtiContext,
    LtiPlatform,
    Role,
    User,
)
from service.services.problems import sync_builtin
from tests.lti.platform import INSTRUCTOR, LEARNER, Platform, parse_form
from tests.lti.test_roster_last_instructor import _roles

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"


def _course_with_assignment(session) -> tuple[Course, Assignment]:
    problems = {p.slug: p for p in sync_builtin(session)}
    teacher = User(email="prof@uni.edu", name="Prof Ada", role=Role.instructor)
    course = Course(code="MODELS", title="Models (mixgrade)")
    assignment = Assignment(course=course, title="Week 1: reading lm output", attempts_allowed=2)
    session.add_all(
        [
            teacher,
            course,
            Enrollment(user=teacher, course=course, role=Role.instructor),
            assignment,
            AssignmentProblem(
                assignment=assignment, problem=problems["simple_regression"], position=1, points=8
            ),
            AssignmentProblem(
                assignment=assignment, problem=problems["additive_dose"], position=2, points=4
            ),
        ]
    )
    session.commit()
    return course, assignment


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def _sync_roster(
    tool_base: str, browser: requests.Session, course_page: str
) -> tuple[int, requests.Response]:
    """Press "Sync the roster" on the LMS course's page (``course_page``, where the
    instructor's launch went); the course id and the page with the sync's report."""
    page = browser.get(urljoin(tool_base + "/", course_page), timeout=10)
    assert "Sync the roster" in page.text
    course_id = int(re.search(r"/lti/courses/(\d+)", course_page).group(1))
    synced = browser.post(
        f"{tool_base}/lti/courses/{course_id}/roster-sync",
        data={"csrf_token": _csrf(page.text)},
        timeout=30,
    )
    assert synced.status_code == 200, synced.text
    return course_id, synced


def test_deep_linking_places_an_assignment_with_its_line_item(tool, platform: Platform, db_session):
    course, assignment = _course_with_assignment(db_session)
    # The local instructor's own account places their assignment: the admin turned on
    # linking by email for this platform (it is off by default).
    db_session.scalar(select(LtiPlatform)).link_by_email = True
    db_session.commit()
    browser = requests.Session()
    hint = platform.prepare(
        sub="prof-1",
        roles=[INSTRUCTOR],
        email="prof@uni.edu",
        message_type="LtiDeepLinkingRequest",
    )
    response, _ = platform.launch(tool.base_url, hint, browser)
    assert response.status_code == 302, response.text
    picker = browser.get(tool.base_url + response.headers["Location"])
    assert "Week 1: reading lm output" in picker.text
    chosen = browser.post(
        picker.url,
        data={"assignment_id": assignment.id, "csrf_token": _csrf(picker.text)},
    )
    assert chosen.status_code == 200, chosen.text
    action, fields = parse_form(chosen.text)
    assert action == f"{platform.base_url}/deep_link_return"
    placed = browser.post(action, data=fields)
    assert placed.status_code == 200 and placed.text == "placed"

    [claims] = platform.deep_link_responses
    assert claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == (
        "LtiDeepLinkingResponse"
    )
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == "deployment-1"
    assert claims[DL + "data"] == "opaque-platform-data"
    [item] = claims[DL + "content_items"]
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == f"{tool.base_url}/lti/launch"
    assert item["custom"] == {"assignment_id": str(assignment.id)}
    assert item["lineItem"]["scoreMaximum"] == 12
    assert item["lineItem"]["label"] == "Week 1: reading lm output"

    # The LMS course now maps to the assignment's course, and the placed link opens it.
    db_session.expire_all()
    context = db_session.scalar(select(LtiContext))
    assert context.course_id == course.id
    student_hint = platform.prepare(
        sub="stu-1",
        roles=[LEARNER],
        email="stu@uni.edu",
        resource_link_id="placed-link",
        custom=item["custom"],
        lineitem=platform.lineitem_url(1),
    )
    launched, _ = platform.launch(tool.base_url, student_hint)
    assert launched.status_code == 302
    assert launched.headers["Location"].endswith(f"/courses/{course.id}")
    student = db_session.scalar(select(User).where(User.email == "stu@uni.edu"))
    assert (
        db_session.scalar(
            select(Enrollment.role).where(
                Enrollment.user_id == student.id, Enrollment.course_id == course.id
            )
        )
        == Role.student
    )
    assert CUSTOM.endswith("/custom")


def test_a_student_cannot_start_deep_linking(tool, platform: Platform, db_session):
    hint = platform.prepare(
        sub="stu-9", roles=[LEARNER], email="s9@uni.edu", message_type="LtiDeepLinkingRequest"
    )
    response, _ = platform.launch(tool.base_url, hint)
    assert response.status_code == 403
    assert "Only instructors may place" in response.text
    assert db_session.scalar(select(User).where(User.email == "s9@uni.edu")) is None


def test_roster_sync_adds_updates_and_removes_members(tool, platform: Platform, db_session):
    browser = requests.Session()
    hint = platform.prepare(sub="prof-2", roles=[INSTRUCTOR], email="teach@uni.edu")
    response, _ = platform.launch(tool.base_url, hint, browser)
    assert response.status_code == 302
    gone = platform.prepare(sub="leaver", roles=[LEARNER], email="leaver@uni.edu")
    platform.launch(tool.base_url, gone)  # enrolled by their own launch, then leaves the LMS
    platform.members = [
        {"user_id": "prof-2", "roles": [INSTRUCTOR], "status": "Active", "name": "Teach"},
        {"user_id": "m-1", "roles": [LEARNER], "email": "m1@uni.edu", "name": "Mia One"},
        {"user_id": "m-2", "roles": [LEARNER, "Instructor"], "email": "m2@uni.edu"},
        {"user_id": "m-3", "roles": [LEARNER], "given_name": "No", "family_name": "Email"},
        {"user_id": "leaver", "roles": [LEARNER], "status": "Deleted"},
    ]
    course_id, synced = _sync_roster(tool.base_url, browser, response.headers["Location"])
    assert "3 added, 0 role changes, 1 removed" in synced.text, synced.text
    roles = _roles(db_session, course_id)
    assert roles["teach@uni.edu"] == Role.instructor
    assert roles["m1@uni.edu"] == Role.student
    assert roles["m2@uni.edu"] == Role.instructor
    assert "leaver@uni.edu" not in roles
    assert len(roles) == 4  # teach, m1, m2 and the member without an email
    assert {"scopes": [
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
    ]} in platform.token_requests  # fmt: skip
