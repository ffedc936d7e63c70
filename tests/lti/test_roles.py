"""Roles come from the LMS course and never reach outside it (issue 12, section 1).

The course role is read from the context (membership) roles only; institution and system
roles never count. A launch or a roster sync never creates, raises or lowers a site-wide
role, and accounts are found by (platform, sub), never by the email claim.
"""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from service.lti import launch, roster
from service.models import (
    Course,
    Enrollment,
    LtiContext,
    LtiIdentity,
    LtiPlatform,
    Role,
    User,
)
from tests.lti.platform import INSTRUCTOR, LEARNER, Platform

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
MEMBERSHIP = LIS + "membership"
INSTITUTION_INSTRUCTOR = LIS + "institution/person#Instructor"
INSTITUTION_FACULTY = LIS + "institution/person#Faculty"
INSTITUTION_ADMIN = LIS + "institution/person#Administrator"
SYSTEM_ADMIN = LIS + "system/person#Administrator"
MENTOR = MEMBERSHIP + "#Mentor"
NON_CREDIT = MEMBERSHIP + "/Learner#NonCreditLearner"


def _user_of(session, sub: str) -> User:
    session.expire_all()
    return session.scalar(
        select(User)
        .join(LtiIdentity, LtiIdentity.user_id == User.id)
        .where(LtiIdentity.subject == sub)
    )


def _course_role(session, user: User) -> Role | None:
    return session.scalar(select(Enrollment.role).where(Enrollment.user_id == user.id))


# ------------------------------------------------------------------------ the role table

TABLE = [
    ([MEMBERSHIP + "#Instructor"], Role.instructor),
    ([MEMBERSHIP + "#TeachingAssistant"], Role.instructor),
    ([MEMBERSHIP + "/Instructor#TeachingAssistant"], Role.instructor),
    ([MEMBERSHIP + "#ContentDeveloper"], Role.instructor),
    ([MEMBERSHIP + "#Administrator"], Role.instructor),
    (["Instructor"], Role.instructor),  # the deprecated simple name of a context role
    ([MEMBERSHIP + "#Learner"], Role.student),
    ([MEMBERSHIP + "/Learner#Learner"], Role.student),
    ([NON_CREDIT], Role.student),
    (["Learner"], Role.student),
    ([MEMBERSHIP + "#Learner", INSTITUTION_INSTRUCTOR], Role.student),
    ([MEMBERSHIP + "#Learner", INSTITUTION_FACULTY], Role.student),
    ([MEMBERSHIP + "#Learner", SYSTEM_ADMIN], Role.student),
    ([INSTITUTION_INSTRUCTOR], None),
    ([INSTITUTION_FACULTY, INSTITUTION_ADMIN, SYSTEM_ADMIN], None),
    ([MENTOR], None),
    ([MENTOR, NON_CREDIT], None),  # how an LMS may describe an observer
    ([MEMBERSHIP + "#Member"], None),
    ([MEMBERSHIP + "/Instructor#Grader"], None),
    ([], None),
]


@pytest.mark.parametrize(("roles", "expected"), TABLE, ids=[", ".join(r) for r, _ in TABLE])
def test_the_course_role_comes_from_context_roles_only(roles, expected):
    assert launch.map_roles(roles) == expected


# ------------------------------------------------------------------------------ launches


@pytest.mark.parametrize(
    "elsewhere",
    [INSTITUTION_INSTRUCTOR, INSTITUTION_FACULTY, INSTITUTION_ADMIN, SYSTEM_ADMIN],
    ids=["institution Instructor", "Faculty", "institution Administrator", "system Admin"],
)
def test_a_learner_with_institution_roles_stays_a_student(tool, platform, db_session, elsewhere):
    hint = platform.prepare(sub="s-inst", roles=[LEARNER, elsewhere], email="s@uni.edu")
    platform.launch(tool.base_url, hint)
    user = _user_of(db_session, "s-inst")
    assert user.role == Role.student
    assert _course_role(db_session, user) == Role.student


def test_an_instructor_launch_teaches_that_course_only(tool, platform: Platform, db_session):
    other = Course(code="OTHER", title="Someone else's course")
    db_session.add(other)
    db_session.commit()
    browser = requests.Session()
    hint = platform.prepare(sub="t-only", roles=[INSTRUCTOR], email="t@uni.edu")
    launched, _ = platform.launch(tool.base_url, hint, browser)
    assert launched.status_code == 302
    user = _user_of(db_session, "t-only")
    assert user.role == Role.student  # no site-wide role from a launch
    [enrollment] = db_session.scalars(select(Enrollment).where(Enrollment.user_id == user.id))
    assert enrollment.role == Role.instructor
    mine = enrollment.course_id

    base = tool.base_url
    assert browser.get(f"{base}/teach/", allow_redirects=False).status_code == 200
    assert browser.get(f"{base}/teach/courses/{mine}").status_code == 200
    assert browser.get(f"{base}/teach/courses/{mine}/assignments/new").status_code == 200
    assert browser.get(f"{base}/teach/courses/{mine}/gradebook").status_code == 200
    assert browser.get(f"{base}/teach/courses/{other.id}").status_code == 404
    assert browser.get(f"{base}/teach/courses/{other.id}/gradebook").status_code == 404
    # Writing in the shared bank stays a site-wide right.
    refused = browser.get(f"{base}/teach/problems/new")
    assert refused.status_code == 403 and "instructor account" in refused.text


def test_a_launch_never_lowers_a_site_role(tool, platform: Platform, db_session):
    """A linked site instructor who is a learner in this LMS course stays a site instructor."""
    local = User(email="colleague@uni.edu", name="Colleague", role=Role.instructor)
    db_session.add(local)
    db_session.scalar(select(LtiPlatform)).link_by_email = True
    db_session.commit()
    hint = platform.prepare(sub="c-1", roles=[LEARNER], email="colleague@uni.edu")
    platform.launch(tool.base_url, hint)
    user = _user_of(db_session, "c-1")
    assert user.id == local.id and user.role == Role.instructor
    assert _course_role(db_session, user) == Role.student


def test_roster_sync_never_changes_a_site_role(tool, platform: Platform, db_session):
    hint = platform.prepare(sub="prof-r", roles=[INSTRUCTOR], email="prof-r@uni.edu")
    platform.launch(tool.base_url, hint)
    hint = platform.prepare(sub="stu-r", roles=[LEARNER], email="stu-r@uni.edu")
    platform.launch(tool.base_url, hint)
    platform.members = [
        {"user_id": "prof-r", "roles": [INSTRUCTOR], "status": "Active"},
        {"user_id": "stu-r", "roles": [LEARNER, INSTITUTION_INSTRUCTOR, SYSTEM_ADMIN]},
        {"user_id": "new-t", "roles": [INSTRUCTOR], "email": "new-t@uni.edu"},
        {"user_id": "new-s", "roles": [LEARNER, INSTITUTION_FACULTY], "email": "new-s@uni.edu"},
    ]
    context = db_session.scalar(select(LtiContext))
    report = roster.sync(db_session, context)
    assert sorted(report.added) == ["new-s@uni.edu", "new-t@uni.edu"]
    for sub, course_role in [
        ("prof-r", Role.instructor),
        ("stu-r", Role.student),
        ("new-t", Role.instructor),
        ("new-s", Role.student),
    ]:
        user = _user_of(db_session, sub)
        assert user.role == Role.student, sub
        assert _course_role(db_session, user) == course_role, sub


# ---------------------------------------------------------------------- linking accounts


@pytest.mark.parametrize("local_role", [Role.admin, Role.instructor, Role.student])
def test_a_launch_with_a_local_accounts_email_gets_its_own_account(
    tool, platform: Platform, db_session, local_role
):
    local = User(email="boss@uni.edu", name="Local", role=local_role)
    db_session.add(local)
    db_session.commit()
    hint = platform.prepare(sub="mallory", roles=[INSTRUCTOR], email="Boss@Uni.edu")
    launched, _ = platform.launch(tool.base_url, hint)
    assert launched.status_code == 302
    user = _user_of(db_session, "mallory")
    assert user.id != local.id
    assert user.email.endswith("@lti.invalid")  # the unique address stays the local one's
    assert user.role == Role.student
    db_session.refresh(local)
    assert local.role == local_role
    assert db_session.scalar(select(Enrollment).where(Enrollment.user_id == local.id)) is None
    assert db_session.scalar(select(LtiIdentity).where(LtiIdentity.user_id == local.id)) is None


def test_linking_by_email_is_an_explicit_platform_setting_and_never_an_admins(
    tool, platform: Platform, db_session
):
    admin = User(email="root@uni.edu", name="Root", role=Role.admin)
    teacher = User(email="ada@uni.edu", name="Ada", role=Role.instructor)
    db_session.add_all([admin, teacher])
    db_session.scalar(select(LtiPlatform)).link_by_email = True
    db_session.commit()
    for sub, email in [("a-1", "root@uni.edu"), ("t-1", "ada@uni.edu"), ("t-2", "ada@uni.edu")]:
        platform.launch(tool.base_url, platform.prepare(sub=sub, roles=[LEARNER], email=email))
    assert _user_of(db_session, "a-1").id != admin.id  # never an admin account
    assert _user_of(db_session, "t-1").id == teacher.id  # the setting, for a non-admin
    assert _user_of(db_session, "t-2").id != teacher.id  # and only for one sub


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("roles", "words"),
    [
        ([MENTOR], "no view for observers"),
        ([MENTOR, NON_CREDIT], "no view for observers"),
        ([MEMBERSHIP + "#Member"], "no view for course members"),
        ([MEMBERSHIP + "/Instructor#Grader"], "no view for graders"),
        ([INSTITUTION_INSTRUCTOR], "neither instructor nor learner"),
    ],
    ids=["Mentor", "Canvas observer", "Member", "Grader", "institution role only"],
)
def test_roles_without_a_view_get_a_clear_refusal_page(
    tool, platform: Platform, db_session, roles, words
):
    users = db_session.scalar(select(func.count()).select_from(User))
    hint = platform.prepare(sub="watcher", roles=roles, email="parent@home.example")
    response, _ = platform.launch(tool.base_url, hint)
    assert response.status_code == 403
    assert response.headers["Content-Type"].startswith("text/html")
    assert words in response.text and "instructor" in response.text
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(User)) == users
