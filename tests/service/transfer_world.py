"""A course whose assignments use a built-in problem and two versions of an authored one:
what the export and import tests (service, CLI and API) move between courses."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.models import Assignment, AssignmentProblem, Course, Enrollment, Problem, Role, User
from service.services import authoring
from service.services.problems import builtin_spec_texts, sync_builtin

#: The authored problem: the built-in simple regression under another id.
SLUG = "lizard_slopes"


def builtin_text() -> str:
    return builtin_spec_texts()["01_simple_regression.yaml"]


def authored_text(version: int = 1, title: str = "Lizards and food") -> str:
    text = builtin_text().replace("id: simple_regression", f"id: {SLUG}", 1)
    text = text.replace("title: Simple linear regression", f"title: {title}", 1)
    return text.replace("version: 1", f"version: {version}", 1)


def instructor(session: Session, email: str, course: Course) -> User:
    user = User(email=email, name=email.split("@")[0].title(), role=Role.instructor)
    session.add_all([user, Enrollment(user=user, course=course, role=Role.instructor)])
    session.commit()
    return user


def course_with_problems(session: Session, code: str = "TRAVEL-A") -> tuple[Course, User]:
    """Course ``code`` taught by teacher@<code>: two assignments on simple_regression v1
    and lizard_slopes v1 and v2 (v2 retitled), plus a draft v3 no assignment uses."""
    builtin = {p.slug: p for p in sync_builtin(session)}["simple_regression"]
    course = Course(code=code, title=f"Course {code}")
    session.add(course)
    teacher = instructor(session, f"teacher@{code.lower()}.test", course)
    first = authoring.create(session, teacher, authored_text())
    second = authoring.new_version(session, teacher, first, authored_text(2, "Lizards, again"))
    authoring.new_version(session, teacher, second, authored_text(3, "Lizards, a draft"))
    for title, problems in (("Week 1", [builtin, first]), ("Week 2", [second])):
        assignment = Assignment(course=course, title=title)
        session.add(assignment)
        for position, problem in enumerate(problems, start=1):
            session.add(
                AssignmentProblem(assignment=assignment, problem=problem, position=position)
            )
    session.commit()
    return course, teacher


def problem_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Problem)) or 0


def misconception_equal_to_answer() -> str:
    """A spec whose first misconception computes the answer itself: only a draw shows it."""
    return authored_text().replace(
        '        expression: coef("Foodavailability")\n        message: That is the slope',
        '        expression: coef("(Intercept)")\n        message: That is the slope',
        1,
    )
