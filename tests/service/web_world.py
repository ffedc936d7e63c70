"""A small course for the web tests: an instructor, two students, an outsider and a
second instructor with their own course, and one assignment on a built-in problem."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.models import (
    Assignment,
    AssignmentProblem,
    Course,
    Enrollment,
    Problem,
    Role,
    StoredVariant,
    User,
)
from service.passwords import hash_password
from service.services import variants
from service.services.problems import builtin_spec_texts, sync_builtin
from tests.conftest import login

PASSWORD = "correct horse battery"


@dataclass
class World:
    course: Course
    other_course: Course
    assignment: Assignment
    item: AssignmentProblem
    problem: Problem
    users: dict[str, User]


@functools.cache
def _password_hash() -> str:
    """Hashed once: scrypt is slow on purpose, and the tests make many users."""
    return hash_password(PASSWORD)


def _user(session: Session, key: str, role: Role) -> User:
    user = User(
        email=f"{key}@example.edu",
        name=key.title(),
        role=role,
        password_hash=_password_hash(),
    )
    session.add(user)
    return user


def build_world(
    session: Session,
    *,
    due_in: timedelta | None = timedelta(days=7),
    late_for: timedelta | None = None,
    attempts: int = 3,
    penalty: float = 0.2,
    practice: bool = True,
) -> World:
    problems = {p.slug: p for p in sync_builtin(session)}
    problem = problems["simple_regression"]
    course = Course(code="STAT-1", title="Models")
    other = Course(code="STAT-2", title="Other models")
    session.add_all([course, other])
    users = {
        "teacher": _user(session, "teacher", Role.instructor),
        "alice": _user(session, "alice", Role.student),
        "bob": _user(session, "bob", Role.student),
        "outsider": _user(session, "outsider", Role.student),
        "other_teacher": _user(session, "other_teacher", Role.instructor),
    }
    session.add_all(
        [
            Enrollment(user=users["teacher"], course=course, role=Role.instructor),
            Enrollment(user=users["alice"], course=course, role=Role.student),
            Enrollment(user=users["bob"], course=course, role=Role.student),
            Enrollment(user=users["outsider"], course=other, role=Role.student),
            Enrollment(user=users["other_teacher"], course=other, role=Role.instructor),
        ]
    )
    now = datetime.now(UTC)
    due = now + due_in if due_in is not None else None
    assignment = Assignment(
        course=course,
        title="Homework 1",
        due_at=due,
        late_until=(due + late_for) if (due and late_for) else None,
        attempts_allowed=attempts,
        late_penalty=penalty,
        practice_allowed=practice,
    )
    item = AssignmentProblem(assignment=assignment, problem=problem, position=1, points=10)
    session.add_all([assignment, item])
    session.commit()
    return World(course, other, assignment, item, problem, users)


@functools.cache
def simple_regression_content(seed: int) -> dict:
    """The stored content of the built-in simple regression's variant for ``seed``."""
    text = next(t for t in builtin_spec_texts().values() if "id: simple_regression" in t)
    return variants.generate_content(text, seed)


def issued_variant(
    world: World, seed_key: str, key: str = "alice", content_seed: int = 1
) -> StoredVariant:
    """A user's variant of the world's assignment problem, seeded as the service seeds it
    (not added to the session)."""
    user = world.users[key]
    return StoredVariant(
        user_id=user.id,
        problem_id=world.problem.id,
        assignment_problem_id=world.item.id,
        seed=variants.seed_for(seed_key, user.id, world.item.id),
        content=simple_regression_content(content_seed),
    )


def as_user(client: FlaskClient, key: str) -> FlaskClient:
    response = login(client, f"{key}@example.edu", PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
