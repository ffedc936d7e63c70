"""Building assignments in courses: drafts, items, the students and problems they use.

Who may teach a course is decided in services.access; this module trusts its caller to
have asked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import problem_bank
from service.models import (
    Assignment,
    AssignmentProblem,
    Course,
    Enrollment,
    Problem,
    ProblemStatus,
    Role,
    ScorePolicy,
    StoredVariant,
    Submission,
    SubmissionStatus,
    User,
)
from service.services import access, scoring, timing


def courses_taught(session: Session, user: User) -> list[Course]:
    """The courses whose pages ``access.teaches`` opens to this user."""
    query = select(Course).order_by(Course.code)
    if not access.is_admin(user):
        query = query.join(Enrollment).where(
            Enrollment.user_id == user.id, Enrollment.role == Role.instructor
        )
    return list(session.scalars(query))


def students(session: Session, course: Course) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(Enrollment)
            .where(Enrollment.course_id == course.id, Enrollment.role == Role.student)
            .order_by(User.name, User.email)
        )
    )


def student_in(session: Session, course_id: int, user_id: int) -> User | None:
    """The user if they are enrolled as a student of the course (None otherwise)."""
    return session.scalar(
        select(User)
        .join(Enrollment)
        .where(
            User.id == user_id,
            Enrollment.course_id == course_id,
            Enrollment.role == Role.student,
        )
    )


def publishable(session: Session) -> list[Problem]:
    """The newest published version of every problem: what an assignment can use.

    An archived version is not offered (its author withdrew it); archiving is per
    version, as publishing is, so an older published version of the same problem is.
    """
    newest: dict[str, Problem] = {}
    rows = session.scalars(
        select(Problem).where(Problem.status == ProblemStatus.published).order_by(Problem.version)
    )
    for row in rows:
        newest[row.slug] = row
    return sorted(newest.values(), key=lambda p: (p.topic, p.title))


def parts_of(problem: Problem) -> list[tuple[str, float, str]]:
    """(part id, weight, prompt) of a problem, read from its spec."""
    spec = problem_bank.parse_spec(problem.spec_text)
    return [(p.id, p.weight, p.prompt) for p in spec.parts]


def default_part_points(assignment_problem: AssignmentProblem) -> dict[str, float]:
    parts = [(pid, w) for pid, w, _ in parts_of(assignment_problem.problem)]
    return scoring.part_points(assignment_problem.points, assignment_problem.part_points, parts)


@dataclass
class AssignmentSettings:
    """An assignment's own settings, as the create and the edit forms set them."""

    title: str = ""
    due_at: datetime | None = None
    late_until: datetime | None = None
    attempts_allowed: int = 3
    late_penalty: float = 0.0
    practice_allowed: bool = False
    score_policy: ScorePolicy = ScorePolicy.best

    @classmethod
    def of(cls, assignment: Assignment) -> AssignmentSettings:
        """The settings an assignment has now (the edit form's starting values)."""
        return cls(
            title=assignment.title,
            due_at=timing.as_utc(assignment.due_at),
            late_until=timing.as_utc(assignment.late_until),
            attempts_allowed=assignment.attempts_allowed,
            late_penalty=assignment.late_penalty,
            practice_allowed=assignment.practice_allowed,
            score_policy=ScorePolicy(assignment.score_policy),
        )


@dataclass
class AssignmentDraft(AssignmentSettings):
    """A validated assignment form: the settings and the problems with their points."""

    problems: list[tuple[int, float]] = field(default_factory=list)


#: Most points one problem or part may be worth.
MAX_POINTS = 1000.0
#: What the forms say when a problem's points are refused (above 0, at most MAX_POINTS).
POSITIVE_POINTS = f"Points are numbers above 0, at most {MAX_POINTS:g}."

#: Most attempts an assignment may allow.
MAX_ATTEMPTS = 50


def read_points(raw: str | None, default: float, *, zero_allowed: bool) -> float:
    """Points typed in a form: a finite number up to MAX_POINTS, else ValueError.

    ``float()`` alone takes "nan" and "inf", which every comparison lets through one way
    or the other, and which PostgreSQL's JSON refuses to store.
    """
    value = float(raw or default)
    low_ok = value >= 0 if zero_allowed else value > 0
    if not (math.isfinite(value) and low_ok and value <= MAX_POINTS):
        raise ValueError(f"points must be a number from 0 to {MAX_POINTS:g}")
    return value


def check_settings(settings: AssignmentSettings) -> dict[str, str]:
    """Field → message for settings that cannot be stored; the form and the API both ask."""
    errors: dict[str, str] = {}
    if not settings.title.strip():
        errors["title"] = "Give the assignment a title."
    due, late = timing.as_utc(settings.due_at), timing.as_utc(settings.late_until)
    if late and not due:
        errors["late_until"] = "A late cut-off needs a due date."
    elif late and due and late < due:
        errors["late_until"] = "The late cut-off must be after the due date."
    if not 1 <= settings.attempts_allowed <= MAX_ATTEMPTS:
        errors["attempts_allowed"] = f"Attempts must be a whole number from 1 to {MAX_ATTEMPTS}."
    if not (math.isfinite(settings.late_penalty) and 0 <= settings.late_penalty <= 1):
        errors["late_penalty"] = "The late penalty is a percentage from 0 to 100."
    return errors


def read_settings(form: Any, into: AssignmentSettings) -> dict[str, str]:
    """Read the settings fields of the create or edit form into ``into``; field → message.

    Dates are read as UTC; the late penalty is typed as a percentage.
    """
    errors: dict[str, str] = {}
    into.title = (form.get("title") or "").strip()[:255]
    for name in ("due_at", "late_until"):
        raw = (form.get(name) or "").strip()
        setattr(into, name, None)
        if raw:
            try:
                setattr(into, name, datetime.fromisoformat(raw).replace(tzinfo=UTC))
            except ValueError:
                errors[name] = "Use the date picker (YYYY-MM-DDTHH:MM)."
    try:
        into.attempts_allowed = int(form.get("attempts_allowed") or 3)
    except ValueError:
        into.attempts_allowed = 0  # check_settings says what is wrong
    try:
        into.late_penalty = float(form.get("late_penalty") or 0) / 100
    except ValueError:
        into.late_penalty = math.nan
    into.practice_allowed = form.get("practice_allowed") == "on"
    try:
        into.score_policy = ScorePolicy(form.get("score_policy") or ScorePolicy.best)
    except ValueError:
        errors["score_policy"] = "Choose which attempt counts: best, last or the average."
    for name, message in check_settings(into).items():
        errors.setdefault(name, message)
    return errors


def read_assignment_form(form: Any) -> tuple[AssignmentDraft, dict[str, str]]:
    """The draft and field → message for what is wrong."""
    draft = AssignmentDraft()
    errors = read_settings(form, draft)
    for raw_id in form.getlist("problem"):
        try:
            problem_id = int(raw_id)
            value = read_points(form.get(f"points-{problem_id}"), 10, zero_allowed=False)
        except ValueError:
            errors["problems"] = f"Points per problem are numbers above 0, at most {MAX_POINTS:g}."
            continue
        draft.problems.append((problem_id, value))
    if not draft.problems and "problems" not in errors:
        errors["problems"] = "Choose at least one problem."
    return draft, errors


def published_problem(session: Session, problem_id: int) -> Problem:
    """The problem if an assignment may use it (published), else ValueError."""
    problem = session.get(Problem, problem_id)
    if problem is None or problem.status != ProblemStatus.published:
        raise ValueError(f"problem {problem_id} is not published")
    return problem


def create_assignment(session: Session, course: Course, draft: AssignmentDraft) -> Assignment:
    """Store the assignment; only published problems are accepted."""
    assignment = Assignment(
        course=course,
        title=draft.title,
        due_at=draft.due_at,
        late_until=draft.late_until,
        attempts_allowed=draft.attempts_allowed,
        late_penalty=draft.late_penalty,
        practice_allowed=draft.practice_allowed,
        score_policy=draft.score_policy,
    )
    session.add(assignment)
    for position, (problem_id, value) in enumerate(draft.problems, start=1):
        problem = published_problem(session, problem_id)
        session.add(
            AssignmentProblem(
                assignment=assignment, problem=problem, position=position, points=value
            )
        )
    session.commit()
    return assignment


def set_part_points(assignment_problem: AssignmentProblem, form: Any) -> dict[str, str]:
    """Read ``part-<item id>-<part id>`` inputs; the item's total becomes their sum."""
    values: dict[str, float] = {}
    for part_id, _weight, _prompt in parts_of(assignment_problem.problem):
        try:
            value = read_points(
                form.get(f"part-{assignment_problem.id}-{part_id}"), 0, zero_allowed=True
            )
        except ValueError:
            return {part_id: f"Points are numbers from 0 to {MAX_POINTS:g}."}
        values[part_id] = value
    if sum(values.values()) <= 0:
        return {"": "The parts need some points in total."}
    assignment_problem.part_points = values
    assignment_problem.points = sum(values.values())
    return {}


def grading_problems(session: Session, course: Course, limit: int = 50) -> list[Submission]:
    """Submissions of this course whose grading failed for good, newest first.

    The instructor sees the stored reason (a student sees only that grading failed) and
    can retry them with "Regrade all" once the cause is fixed.
    """
    return list(
        session.scalars(
            select(Submission)
            .join(StoredVariant, StoredVariant.id == Submission.variant_id)
            .join(AssignmentProblem, AssignmentProblem.id == StoredVariant.assignment_problem_id)
            .join(Assignment, Assignment.id == AssignmentProblem.assignment_id)
            .where(
                Assignment.course_id == course.id,
                Submission.status == SubmissionStatus.failed,
            )
            .order_by(Submission.id.desc())
            .limit(limit)
        )
    )
