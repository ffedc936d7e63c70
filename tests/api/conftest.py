"""A course with an instructor, two students, an outsider and tokens for each of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from service.models import (
    Assignment,
    AssignmentProblem,
    Course,
    Enrollment,
    Problem,
    Role,
    User,
)
from service.services import tokens
from service.services.problems import sync_builtin


@dataclass
class ApiWorld:
    course: Course
    other: Course
    assignment: Assignment
    item: AssignmentProblem
    problem: Problem
    users: dict[str, User]
    secrets: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[who]}"}


def build_api_world(session: Session, *, attempts: int = 3) -> ApiWorld:
    problems = {p.slug: p for p in sync_builtin(session)}
    problem = problems["simple_regression"]
    course = Course(code="API-1", title="Models via the API")
    other = Course(code="API-2", title="Someone else's course")
    users = {
        key: User(email=f"{key}@api.test", name=key.title(), role=role)
        for key, role in (
            ("teacher", Role.instructor),
            ("alice", Role.student),
            ("bob", Role.student),
            ("outsider", Role.student),
            ("admin", Role.admin),
        )
    }
    session.add_all([course, other, *users.values()])
    session.add_all(
        [
            Enrollment(user=users["teacher"], course=course, role=Role.instructor),
            Enrollment(user=users["alice"], course=course, role=Role.student),
            Enrollment(user=users["bob"], course=course, role=Role.student),
            Enrollment(user=users["outsider"], course=other, role=Role.student),
        ]
    )
    assignment = Assignment(
        course=course,
        title="Homework 1",
        due_at=datetime.now(UTC) + timedelta(days=7),
        attempts_allowed=attempts,
        late_penalty=0.2,
    )
    item = AssignmentProblem(assignment=assignment, problem=problem, position=1, points=10)
    session.add_all([assignment, item])
    session.commit()
    world = ApiWorld(course, other, assignment, item, problem, users)
    for key, user in users.items():
        world.secrets[key] = tokens.create(session, user, name=f"{key} test")[1]
    return world


@pytest.fixture
def world(db_session) -> ApiWorld:
    return build_api_world(db_session)
