"""A student's terms on an assignment: due date, late cut-off and attempts, with any
per-student exception (an accommodation, an illness) applied.

The one place the exception is combined with the assignment, so the submit path, the
student's page, the gradebook and a recompute after an edit all agree on when a student's
work is late or closed and how many attempts they have.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import among
from service.models import Assignment, AssignmentException
from service.services import timing


@dataclass(frozen=True)
class Terms:
    """Satisfies ``timing.Dated``: pass it wherever an assignment's dates are read."""

    due_at: datetime | None
    late_until: datetime | None
    attempts_allowed: int
    exception: AssignmentException | None = None


def combine(
    due_at: datetime | None,
    late_until: datetime | None,
    attempts_allowed: int,
    *,
    exception_due_at: datetime | None = None,
    exception_late_until: datetime | None = None,
    extra_attempts: int | None = None,
) -> tuple[datetime | None, datetime | None, int]:
    """(due, late cut-off, attempts) once an exception's values are applied.

    An extended due date later than the assignment's late cut-off moves the cut-off with
    it (a student given until Friday is not closed out on Wednesday); an exception's own
    late cut-off wins over both.
    """
    due = timing.as_utc(exception_due_at or due_at)
    late = timing.as_utc(exception_late_until or late_until)
    extended = timing.as_utc(exception_due_at)
    if extended is not None and exception_late_until is None and late is not None:
        late = max(late, extended)
    return due, late, attempts_allowed + (extra_attempts or 0)


def terms(assignment: Assignment, exception: AssignmentException | None) -> Terms:
    if exception is None:
        return Terms(assignment.due_at, assignment.late_until, assignment.attempts_allowed)
    due, late, attempts = combine(
        assignment.due_at,
        assignment.late_until,
        assignment.attempts_allowed,
        exception_due_at=exception.due_at,
        exception_late_until=exception.late_until,
        extra_attempts=exception.extra_attempts,
    )
    return Terms(due, late, attempts, exception)


def exception_of(session: Session, assignment_id: int, user_id: int) -> AssignmentException | None:
    return session.scalar(
        select(AssignmentException).where(
            AssignmentException.assignment_id == assignment_id,
            AssignmentException.user_id == user_id,
        )
    )


def for_student(session: Session, assignment: Assignment, user_id: int) -> Terms:
    return terms(assignment, exception_of(session, assignment.id, user_id))


def for_assignments(
    session: Session, assignment_ids: Iterable[int], user_ids: Iterable[int] | None = None
) -> dict[tuple[int, int], AssignmentException]:
    """Every exception on these assignments (for these students), by (assignment, user)."""
    query = select(AssignmentException).where(
        among(session, AssignmentException.assignment_id, assignment_ids)
    )
    if user_ids is not None:
        query = query.where(among(session, AssignmentException.user_id, user_ids))
    return {(e.assignment_id, e.user_id): e for e in session.scalars(query)}
