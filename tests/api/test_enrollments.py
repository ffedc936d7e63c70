"""Enrollments through the API: the role is required, and a course keeps an instructor.

On SQLite and PostgreSQL alike, since the last-instructor check takes a lock whose SQL
differs in effect between the two.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from service.models import Enrollment, Role, User
from service.services import enrollments, tokens
from tests.api.conftest import ApiWorld, build_api_world
from tests.conftest import settings_on

API = "/api/v1"


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path):
    return settings_on(request.param, request, tmp_path)


def _members(client, world: ApiWorld, who: str = "teacher") -> dict[str, dict]:
    listed = client.get(
        f"{API}/courses/{world.course.id}/enrollments?per_page=100", headers=world.auth(who)
    )
    return {e["user"]["email"]: e for e in listed.get_json()["items"]}


def _enroll(client, world: ApiWorld, who: str, body: dict):
    return client.post(
        f"{API}/courses/{world.course.id}/enrollments", json=body, headers=world.auth(who)
    )


def _second_instructor(db_session, world: ApiWorld) -> str:
    """Carol, an instructor account enrolled as instructor, with a token of her own."""
    carol = User(email="carol@api.test", name="Carol", role=Role.instructor)
    db_session.add_all([carol, Enrollment(user=carol, course=world.course, role=Role.instructor)])
    db_session.commit()
    world.secrets["carol"] = tokens.create(db_session, carol, name="carol")[1]
    return "carol"


def test_the_role_is_required(client, world: ApiWorld):
    response = _enroll(client, world, "teacher", {"email": "teacher@api.test"})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert "json.role" in response.get_json()["detail"]
    assert _members(client, world)["teacher@api.test"]["role"] == "instructor"


def test_the_last_instructor_cannot_demote_themselves(client, world: ApiWorld):
    response = _enroll(client, world, "teacher", {"email": "teacher@api.test", "role": "student"})
    assert response.status_code == 409, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == (
        "teacher@api.test is the last instructor of API-1; enroll another instructor first."
    )
    assert _members(client, world)["teacher@api.test"]["role"] == "instructor"


def test_with_two_instructors_one_may_step_down_and_be_promoted_back(
    client, db_session, world: ApiWorld
):
    carol = _second_instructor(db_session, world)
    demoted = _enroll(client, world, "teacher", {"email": "teacher@api.test", "role": "student"})
    assert demoted.status_code == 200, demoted.get_data(as_text=True)
    assert demoted.get_json()["role"] == "student"
    # Now Carol is the last one; the API can undo the change.
    restored = _enroll(client, world, carol, {"email": "teacher@api.test", "role": "instructor"})
    assert restored.status_code == 200
    assert _members(client, world)["teacher@api.test"]["role"] == "instructor"


def test_the_last_instructor_cannot_be_removed_but_others_can(client, db_session, world: ApiWorld):
    members = _members(client, world)
    teacher = f"{API}/courses/{world.course.id}/enrollments/{members['teacher@api.test']['id']}"
    refused = client.delete(teacher, headers=world.auth("teacher"))
    assert refused.status_code == 409, refused.get_data(as_text=True)
    assert "last instructor of API-1" in refused.get_json()["detail"]

    alice = f"{API}/courses/{world.course.id}/enrollments/{members['alice@api.test']['id']}"
    assert client.delete(alice, headers=world.auth("alice")).status_code == 403
    assert client.delete(alice, headers=world.auth("teacher")).status_code == 204
    assert client.delete(alice, headers=world.auth("teacher")).status_code == 404

    carol = _second_instructor(db_session, world)
    assert client.delete(teacher, headers=world.auth(carol)).status_code == 204
    assert set(_members(client, world, carol)) == {"bob@api.test", "carol@api.test"}


def test_an_enrollment_of_another_course_is_not_found(client, world: ApiWorld, db_session):
    outsider = db_session.scalar(select(Enrollment).where(Enrollment.course_id == world.other.id))
    response = client.delete(
        f"{API}/courses/{world.course.id}/enrollments/{outsider.id}",
        headers=world.auth("teacher"),
    )
    assert response.status_code == 404


def test_two_instructors_demoting_themselves_at_once_leave_one(app, db_session, settings):
    """The check and the change are atomic: of two simultaneous demotions, one is refused."""
    world = build_api_world(db_session)
    _second_instructor(db_session, world)
    sessions = app.extensions["mixgrade.sessions"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def step_down(email: str) -> None:
        session = sessions()
        try:
            user = session.scalar(select(User).where(User.email == email))
            course = session.get(type(world.course), world.course.id)
            barrier.wait()
            enrollments.set_role(session, user, course, Role.student)
            session.commit()
            outcomes.append("demoted")
        except enrollments.LastInstructor:
            session.rollback()
            outcomes.append("refused")
        finally:
            session.close()

    threads = [
        threading.Thread(target=step_down, args=(email,))
        for email in ("teacher@api.test", "carol@api.test")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["demoted", "refused"]
    db_session.expire_all()
    instructors = db_session.scalars(
        select(Enrollment).where(
            Enrollment.course_id == world.course.id, Enrollment.role == Role.instructor
        )
    ).all()
    assert len(instructors) == 1


def test_enrolling_as_instructor_gives_the_course_and_never_a_site_role(
    client, db_session, world: ApiWorld
):
    """As with LMS launches: the role is this course's; site roles are an admin's to give."""
    promoted = _enroll(client, world, "teacher", {"email": "bob@api.test", "role": "instructor"})
    assert promoted.status_code == 200, promoted.get_json()
    created = _enroll(
        client, world, "teacher", {"email": "dana@api.test", "name": "Dana", "role": "instructor"}
    )
    assert created.status_code == 201, created.get_json()
    db_session.expire_all()
    for email in ("bob@api.test", "dana@api.test"):
        user = db_session.scalar(select(User).where(User.email == email))
        assert user.role == Role.student  # the site role: no problem authoring, no other course
        assert _members(client, world)[email]["role"] == "instructor"
    # Bob now teaches this course through the API (his token reaches its roster) …
    assert (
        client.get(
            f"{API}/courses/{world.course.id}/enrollments", headers=world.auth("bob")
        ).status_code
        == 200
    )
    # … and no other.
    assert client.get(
        f"{API}/courses/{world.other.id}/enrollments", headers=world.auth("bob")
    ).status_code in (403, 404)
