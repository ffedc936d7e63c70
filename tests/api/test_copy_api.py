"""POST /api/v1/assignments/<id>/copy and /api/v1/courses/<id>/copy-assignments."""

from __future__ import annotations

import pytest

from service.models import Assignment, Course, Enrollment, Role
from tests.api.conftest import ApiWorld
from tests.service.test_copying import assert_same_assignment

API = "/api/v1"


@pytest.fixture
def next_term(db_session, world: ApiWorld) -> Course:
    course = Course(code="API-1-NEXT", title="Next term")
    db_session.add(course)
    db_session.add_all(
        [
            Enrollment(user=world.users["teacher"], course=course, role=Role.instructor),
            Enrollment(user=world.users["alice"], course=course, role=Role.student),
        ]
    )
    world.item.part_points = {"slope": 6.0}
    db_session.commit()
    return course


def test_copy_an_assignment_with_its_dates_moved(client, db_session, world, next_term):
    response = client.post(
        f"{API}/assignments/{world.assignment.id}/copy",
        json={"course_id": next_term.id, "shift_days": 7},
        headers=world.auth("teacher"),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["course_id"] == next_term.id and body["id"] != world.assignment.id
    assert [i["problem"]["id"] for i in body["items"]] == [world.problem.id]
    db_session.expire_all()
    copy = db_session.get(Assignment, body["id"])
    assert_same_assignment(copy, db_session.get(Assignment, world.assignment.id), 7)


def test_copy_all_of_a_courses_assignments(client, db_session, world, next_term):
    response = client.post(
        f"{API}/courses/{world.course.id}/copy-assignments",
        json={"course_id": next_term.id},
        headers=world.auth("teacher"),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    (copy,) = response.get_json()["items"]
    assert copy["title"] == "Homework 1" and copy["due_at"] == _due(client, world)


def _due(client, world: ApiWorld) -> str:
    url = f"{API}/assignments/{world.assignment.id}"
    return client.get(url, headers=world.auth("teacher")).get_json()["due_at"]


@pytest.mark.parametrize(
    ("who", "target", "body", "status"),
    [
        ("alice", "next", {}, 403),  # a student of the course
        ("outsider", "next", {}, 404),  # not in the course at all
        ("teacher", "other", {}, 404),  # a course the teacher is not in
        ("teacher", "next", {"shift_days": 4000}, 422),
        ("teacher", "next", {"shift_days": "soon"}, 422),
        ("teacher", None, {}, 422),
    ],
)
def test_bad_requests_are_refused(client, db_session, world, next_term, who, target, body, status):
    ids = {"next": next_term.id, "other": world.other.id}
    payload = {**body, **({"course_id": ids[target]} if target else {})}
    for url in (
        f"{API}/assignments/{world.assignment.id}/copy",
        f"{API}/courses/{world.course.id}/copy-assignments",
    ):
        response = client.post(url, json=payload, headers=world.auth(who))
        assert response.status_code == status, (url, response.get_data(as_text=True))
        assert response.mimetype == "application/problem+json"
    db_session.expire_all()
    assert db_session.get(Course, next_term.id).assignments == []


def test_a_course_the_caller_is_a_student_in_is_403(client, db_session, world, next_term):
    """Teaching the source is not enough: the caller must teach the target too."""
    db_session.add(Enrollment(user=world.users["teacher"], course=world.other, role=Role.student))
    db_session.commit()
    response = client.post(
        f"{API}/assignments/{world.assignment.id}/copy",
        json={"course_id": world.other.id},
        headers=world.auth("teacher"),
    )
    assert response.status_code == 403


def test_the_copy_routes_are_documented(client):
    doc = client.get(f"{API}/openapi.json").get_json()
    one = doc["paths"]["/api/v1/assignments/{assignment_id}/copy"]["post"]
    assert "AssignmentCopy" in str(one["requestBody"]) and "201" in one["responses"]
    assert "/api/v1/courses/{course_id}/copy-assignments" in doc["paths"]
