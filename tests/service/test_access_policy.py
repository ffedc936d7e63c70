"""One access policy (service.services.access) for web pages, the API and LTI pages.

Before it, the API and the LTI course page let a site admin into every course while the
web teaching pages did not; each front had its own copy of "who teaches this course".
These tests ask the same question of every front and expect the same answer.
"""

from __future__ import annotations

import pytest

from service.models import Role, StoredVariant, User
from service.services import access, tokens
from tests.conftest import login
from tests.service.web_world import PASSWORD, _password_hash, as_user, build_world, issued_variant


@pytest.fixture
def world(db_session, settings):
    world = build_world(db_session)
    admin = User(
        email="root@example.edu", name="Root", role=Role.admin, password_hash=_password_hash()
    )
    db_session.add(admin)
    db_session.commit()
    world.users["admin"] = admin
    variant = issued_variant(world, settings.seed_key)
    db_session.add(variant)
    db_session.commit()
    world.variant_id = variant.id  # type: ignore[attr-defined]
    return world


def _fronts(app, db_session, world, key: str) -> dict[str, int]:
    """Status of 'open this course as its teacher' on the web, LTI and API fronts."""
    user = world.users[key]
    course = world.course.id
    secret = tokens.create(db_session, user, name="policy test")[1]
    client = app.test_client()
    login(client, user.email, PASSWORD)
    statuses = {
        "web course": client.get(f"/teach/courses/{course}").status_code,
        "web gradebook": client.get(f"/teach/courses/{course}/gradebook").status_code,
        "lti course": client.get(f"/lti/courses/{course}").status_code,
    }
    api = app.test_client()  # no session cookie: the token alone
    headers = {"Authorization": f"Bearer {secret}"}
    statuses["api roster"] = api.get(
        f"/api/v1/courses/{course}/enrollments", headers=headers
    ).status_code
    return statuses


@pytest.mark.parametrize(
    ("key", "expected"),
    [("teacher", 200), ("admin", 200), ("other_teacher", 404)],
)
def test_every_front_gives_the_same_answer(app, db_session, world, key, expected):
    statuses = _fronts(app, db_session, world, key)
    assert set(statuses.values()) == {expected}, statuses


def test_an_admin_is_an_instructor_of_every_course_and_sees_them_listed(client, world):
    as_user(client, "root")
    html = client.get("/teach/").get_data(as_text=True)
    assert "STAT-1" in html and "STAT-2" in html


def test_the_rules_themselves(db_session, world):
    users = world.users
    course = world.course.id
    variant = db_session.get(StoredVariant, world.variant_id)
    assert access.role_in(db_session, users["alice"], course) == Role.student
    assert access.role_in(db_session, users["outsider"], course) is None
    assert access.role_in(db_session, users["admin"], course) == Role.instructor
    assert access.teaches(db_session, users["teacher"], course)
    assert not access.teaches(db_session, users["alice"], course)
    assert not access.teaches(db_session, users["other_teacher"], course)
    seen = {k for k, u in users.items() if access.may_view_variant(db_session, u, variant)}
    assert seen == {"alice", "teacher", "admin"}
    assert access.is_author(users["teacher"]) and not access.is_author(users["alice"])
    assert access.may_teach(db_session, users["other_teacher"])
    assert not access.may_teach(db_session, users["bob"])
