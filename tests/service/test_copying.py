"""Copying an assignment, or all of a course's, into another course (for the next term)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, inspect, select

from service.models import (
    Assignment,
    AssignmentProblem,
    Course,
    Enrollment,
    Role,
    StoredVariant,
    Submission,
    SubmissionStatus,
)
from service.services import copying
from tests.conftest import csrf_token, settings_on
from tests.service.web_world import World, as_user, build_world, issued_variant


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path):
    return settings_on(request.param, request, tmp_path)


@pytest.fixture
def world(db_session) -> World:
    """The web world, with a second course the teacher teaches (next term) and an
    assignment whose every setting differs from the defaults, with student work."""
    world = build_world(db_session, late_for=timedelta(days=2), attempts=7, penalty=0.35)
    next_term = Course(code="STAT-1-NEXT", title="Models, next term")
    db_session.add(next_term)
    db_session.add(Enrollment(user=world.users["teacher"], course=next_term, role=Role.instructor))
    world.item.points = 12.5
    world.item.part_points = {"slope": 5.0, "intercept": 2.5}
    second = AssignmentProblem(
        assignment=world.assignment, problem=world.problem, position=3, points=4
    )
    db_session.add(second)
    db_session.flush()
    variant = issued_variant(world, b"copy-test")
    db_session.add(variant)
    db_session.flush()
    db_session.add(
        Submission(
            variant_id=variant.id,
            user_id=variant.user_id,
            attempt_number=1,
            answers={"slope": "1"},
            status=SubmissionStatus.graded,
            score=0.5,
        )
    )
    db_session.commit()
    return world


def _next_term(db_session) -> Course:
    return db_session.scalar(select(Course).where(Course.code == "STAT-1-NEXT"))


def _count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


def assert_same_assignment(copy: Assignment, original: Assignment, shift_days: int = 0) -> None:
    """Every column but the row's identity and place is the original's (dates shifted),
    checked over the mapper's columns, not over copying's own list."""
    shift = timedelta(days=shift_days)
    assert copy.id != original.id
    for key in _columns(Assignment) - {"id", "course_id", "created_at"}:
        want = getattr(original, key)
        if key in ("due_at", "late_until") and want is not None:
            want = want + shift
        assert getattr(copy, key) == want, key
    pairs = list(zip(copy.assignment_problems, original.assignment_problems, strict=True))
    for mine, theirs in pairs:
        for key in _columns(AssignmentProblem) - {"id", "assignment_id", "created_at"}:
            assert getattr(mine, key) == getattr(theirs, key), key


def _columns(model) -> set[str]:
    return {column.key for column in inspect(model).column_attrs}


def test_every_column_but_identity_and_place_is_copied():
    """Fails when a column is added to Assignment or AssignmentProblem and a copy would
    leave it behind: whatever copying leaves out must be one of these few."""
    assert set(copying.copied_columns(Assignment)) == _columns(Assignment) - {
        "id",
        "course_id",
        "created_at",
    }
    assert set(copying.copied_columns(AssignmentProblem)) == _columns(AssignmentProblem) - {
        "id",
        "assignment_id",
        "created_at",
    }


def test_a_copy_asks_the_same_and_takes_no_student_work(db_session, world):
    before = (_count(db_session, StoredVariant), _count(db_session, Submission))
    copy = copying.copy_assignment(db_session, world.assignment, _next_term(db_session))
    db_session.expire_all()
    copy = db_session.get(Assignment, copy.id)
    original = db_session.get(Assignment, world.assignment.id)
    assert copy.course.code == "STAT-1-NEXT"
    assert [ap.position for ap in copy.assignment_problems] == [1, 3]
    assert copy.assignment_problems[0].part_points == {"slope": 5.0, "intercept": 2.5}
    assert_same_assignment(copy, original)
    assert (_count(db_session, StoredVariant), _count(db_session, Submission)) == before
    copied_ids = [ap.id for ap in copy.assignment_problems]
    assert not db_session.scalars(
        select(StoredVariant).where(StoredVariant.assignment_problem_id.in_(copied_ids))
    ).all()


def test_dates_move_by_the_days_asked(db_session, world):
    copy = copying.copy_assignment(db_session, world.assignment, _next_term(db_session), 119)
    db_session.expire_all()
    original = db_session.get(Assignment, world.assignment.id)
    assert_same_assignment(db_session.get(Assignment, copy.id), original, shift_days=119)


def test_a_problem_archived_out_of_the_assignment_stays_behind(db_session, world, monkeypatch):
    """``archived_at`` (added to assignment problems by the assignment editor) is read
    with getattr, so the copy works with and without the column."""
    if not hasattr(AssignmentProblem, "archived_at"):  # before the column exists
        monkeypatch.setattr(AssignmentProblem, "archived_at", None, raising=False)
    world.assignment.assignment_problems[1].archived_at = datetime.now(UTC)
    copy = copying.copy_assignment(db_session, world.assignment, _next_term(db_session))
    assert [ap.position for ap in copy.assignment_problems] == [1]


def test_copy_all_of_a_courses_assignments(db_session, world):
    extra = Assignment(course=world.course, title="Homework 2", attempts_allowed=1)
    db_session.add(extra)
    db_session.commit()
    copies = copying.copy_course_assignments(db_session, world.course, _next_term(db_session), 7)
    assert [a.title for a in copies] == ["Homework 1", "Homework 2"]
    assert [a.title for a in _next_term(db_session).assignments] == ["Homework 1", "Homework 2"]
    assert copies[1].due_at is None and copies[1].attempts_allowed == 1


@pytest.mark.parametrize("raw", ["x", "1.5", "3651", "-4000", "9" * 40])
def test_a_bad_shift_is_refused(raw):
    with pytest.raises(ValueError, match="days"):
        copying.read_shift_days(raw)


# ---------------------------------------------------------------------------------- web


def _post(client, page: str, url: str, data: dict):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_the_assignment_page_copies_into_a_course_the_teacher_teaches(client, db_session, world):
    as_user(client, "teacher")
    page = f"/teach/assignments/{world.assignment.id}"
    body = client.get(page).get_data(as_text=True)
    target = _next_term(db_session)
    assert "Copy to course" in body and f'<option value="{target.id}">STAT-1-NEXT' in body
    copy_form = body[body.index('id="copy-assignment-course"') :].split("</select>")[0]
    assert f'<option value="{world.other_course.id}"' not in copy_form  # not theirs to teach
    response = _post(client, page, f"{page}/copy", {"course_id": target.id, "shift_days": "14"})
    assert response.status_code == 302
    db_session.expire_all()
    (copy,) = _next_term(db_session).assignments
    assert response.location.endswith(f"/teach/assignments/{copy.id}")
    assert_same_assignment(copy, db_session.get(Assignment, world.assignment.id), 14)


def test_the_course_page_copies_every_assignment(client, db_session, world):
    as_user(client, "teacher")
    page = f"/teach/courses/{world.course.id}"
    assert "Copy all assignments to" in client.get(page).get_data(as_text=True)
    target = _next_term(db_session)
    response = _post(client, page, f"{page}/copy-assignments", {"course_id": target.id})
    assert response.status_code == 302 and response.location.endswith(f"/courses/{target.id}")
    db_session.expire_all()
    assert [a.title for a in _next_term(db_session).assignments] == ["Homework 1"]


@pytest.mark.parametrize(
    ("data", "status", "says"),
    [
        ({"course_id": "other"}, 403, "only into a course you teach"),
        ({"course_id": "999999"}, 403, "only into a course you teach"),
        ({"course_id": ""}, 400, "Choose the course"),
        ({"course_id": "next", "shift_days": "soon"}, 400, "whole number"),
        ({"course_id": "next", "shift_days": "99999"}, 400, "at most 3650 days"),
    ],
)
def test_the_copy_form_refuses_bad_input(client, db_session, world, data, status, says):
    ids = {"other": str(world.other_course.id), "next": str(_next_term(db_session).id)}
    data = {**data, "course_id": ids.get(data["course_id"], data["course_id"])}
    as_user(client, "teacher")
    page = f"/teach/assignments/{world.assignment.id}"
    response = _post(client, page, f"{page}/copy", data)
    assert response.status_code == status
    assert says in response.get_data(as_text=True)
    assert _next_term(db_session).assignments == []


@pytest.mark.parametrize(("who", "status"), [("alice", 403), ("other_teacher", 404)])
def test_only_the_courses_instructors_may_copy(client, db_session, world, who, status):
    as_user(client, who)
    token = csrf_token(client.get("/").get_data(as_text=True))
    data = {"csrf_token": token, "course_id": world.other_course.id}
    for url in (
        f"/teach/assignments/{world.assignment.id}/copy",
        f"/teach/courses/{world.course.id}/copy-assignments",
    ):
        assert client.post(url, data=data).status_code == status
    db_session.expire_all()
    assert len(db_session.get(Course, world.other_course.id).assignments) == 0
