"""The demo course that `make run` loads: loading it twice changes nothing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
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
from service.passwords import hash_password, set_password
from service.services.problems import sync_builtin

COURSE_CODE = "STAT-330"
#: Built-in problems placed in the demo assignment, in order, when the bank has them.
DEMO_PROBLEMS = ("simple_regression", "additive_dose", "logistic_cod", "mixed_reading")
DEMO_PEOPLE = (
    ("instructor@demo.mixgrade", "Dr. Ada Instructor", Role.instructor),
    ("student1@demo.mixgrade", "Sam Student", Role.student),
    ("student2@demo.mixgrade", "Kim Student", Role.student),
    ("student3@demo.mixgrade", "Lee Student", Role.student),
)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str


def load_demo(session: Session, logins_file: Path) -> list[DemoLogin]:
    """Create the demo course, people and assignment if missing; return the logins.

    Passwords are random per installation and kept in ``logins_file`` (under instance/,
    mode 0600), so no password is ever in the repository.
    """
    passwords = _read_logins(logins_file)
    course = session.scalar(select(Course).where(Course.code == COURSE_CODE))
    if course is None:
        course = Course(code=COURSE_CODE, title="Linear, generalized and mixed models")
        session.add(course)
    logins = []
    for email, name, role in DEMO_PEOPLE:
        user = session.scalar(select(User).where(User.email == email))
        password = passwords.get(email) or secrets.token_urlsafe(9)
        if user is None:
            user = User(email=email, name=name, role=role, password_hash=hash_password(password))
            session.add(user)
            session.flush()
        elif email not in passwords:  # the logins file was lost: issue a fresh password
            set_password(user, password)
        if (
            session.scalar(
                select(Enrollment).where(Enrollment.user == user, Enrollment.course == course)
            )
            is None
        ):
            session.add(Enrollment(user=user, course=course, role=role))
        logins.append(DemoLogin(email, password, role.value))
    problems = {p.slug: p for p in sync_builtin(session)}
    if not course.assignments:
        _demo_assignment(session, course, problems)
    session.commit()
    _write_logins(logins_file, logins)
    return logins


def _demo_assignment(session: Session, course: Course, problems: dict[str, Problem]) -> None:
    chosen = [problems[slug] for slug in DEMO_PROBLEMS if slug in problems]
    if not chosen:
        chosen = list(problems.values())[:3]
    assignment = Assignment(
        course=course,
        title="Assignment 1: reading model output",
        due_at=datetime.now(UTC) + timedelta(days=14),
        attempts_allowed=3,
        late_penalty=0.2,
        practice_allowed=True,
    )
    session.add(assignment)
    for position, problem in enumerate(chosen, start=1):
        session.add(
            AssignmentProblem(assignment=assignment, problem=problem, position=position, points=10)
        )


def _read_logins(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("\t") for line in path.read_text().splitlines() if "\t" in line)
    return {fields[0]: fields[1] for fields in pairs if len(fields) >= 2}


def _write_logins(path: Path, logins: list[DemoLogin]) -> None:
    path.write_text("".join(f"{x.email}\t{x.password}\t{x.role}\n" for x in logins))
    path.chmod(0o600)
