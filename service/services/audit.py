"""The audit log: who changed what, when, from what to what, and why.

Every instructor action that changes what a student is scored or told (an assignment
edit, an override, an exception, a new version) writes one event here in the same
transaction as the change, so the log can never miss a change or record one that was
rolled back. Events with a ``summary`` are also what students are told.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.models import AuditEvent


def record(
    session: Session,
    *,
    course_id: int,
    actor_id: int | None,
    action: str,
    reason: str = "",
    before: Any = None,
    after: Any = None,
    student_id: int | None = None,
    assignment_id: int | None = None,
    assignment_problem_id: int | None = None,
    submission_id: int | None = None,
    summary: str | None = None,
) -> AuditEvent:
    """Add one event (flushed, not committed: it commits with the change it records)."""
    event = AuditEvent(
        course_id=course_id,
        actor_id=actor_id,
        action=action,
        reason=reason,
        before=before,
        after=after,
        student_id=student_id,
        assignment_id=assignment_id,
        assignment_problem_id=assignment_problem_id,
        submission_id=submission_id,
        summary=summary,
    )
    session.add(event)
    session.flush()
    return event


def for_course(
    session: Session,
    course_id: int,
    *,
    student_id: int | None = None,
    assignment_id: int | None = None,
    limit: int = 500,
) -> list[AuditEvent]:
    """A course's events, newest first, optionally about one student or assignment."""
    query = select(AuditEvent).where(AuditEvent.course_id == course_id)
    if student_id is not None:
        query = query.where(AuditEvent.student_id == student_id)
    if assignment_id is not None:
        query = query.where(AuditEvent.assignment_id == assignment_id)
    return list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))


def _told(student_id: int) -> Any:
    """The events a student is told of: with a summary, about everyone or them only."""
    return (
        AuditEvent.summary.is_not(None),
        AuditEvent.assignment_id.is_not(None),
        or_(AuditEvent.student_id.is_(None), AuditEvent.student_id == student_id),
    )


def told_to_students(session: Session, assignment_id: int, student_id: int) -> list[AuditEvent]:
    """What this student is told changed on an assignment, newest first."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.assignment_id == assignment_id, *_told(student_id))
            .order_by(AuditEvent.id.desc())
        )
    )


def recently_told(
    session: Session, student_id: int, course_ids: Iterable[int], since: datetime, most: int = 10
) -> list[AuditEvent]:
    """What this student was told changed in these courses since ``since``, newest first
    (the dashboard's "What changed"; each course's page keeps the whole list)."""
    wanted = list(course_ids)
    if not wanted:
        return []
    return list(
        session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.course_id.in_(wanted),
                AuditEvent.created_at >= since,
                *_told(student_id),
            )
            .order_by(AuditEvent.id.desc())
            .limit(most)
        )
    )
