"""Setting and removing a student's exception on an assignment (accommodation, illness).

An exception moves the student's own due date and late cut-off and adds attempts; the
rules that read it are ``student_terms``'s. Writing one is audited (the reason stays in
the log: it may be medical, so the sentence the student reads does not repeat it), and
when the student's due date moves their late flags and scores are worked out again (by
``assignment_editing.rescore``, the recompute an assignment edit uses) and the new total
goes to the LMS, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import (
    Assignment,
    AssignmentException,
    User,
    utcnow,
)
from service.services import assignment_editing, formats, student_terms, teaching, timing
from service.services.overrides import (
    Refused,
    flush_or_refuse,
    read_reason,
    record_student_change,
)

#: Most attempts an exception may add: far past any accommodation, far below a typo's 10⁹.
MAX_EXTRA_ATTEMPTS = 100

__all__ = [
    "MAX_EXTRA_ATTEMPTS",
    "ExceptionTerms",
    "Refused",
    "read_form",
    "remove_exception",
    "set_exception",
]


@dataclass(frozen=True)
class ExceptionTerms:
    """What an exception grants: None leaves the assignment's own date."""

    due_at: datetime | None = None
    late_until: datetime | None = None
    extra_attempts: int = 0


def read_form(form: Any) -> tuple[ExceptionTerms, str, dict[str, str]]:
    """(terms, reason, field → message) from the web form; dates are read as UTC."""
    errors: dict[str, str] = {}
    dates: dict[str, datetime | None] = {}
    for name in ("due_at", "late_until"):
        raw = (form.get(name) or "").strip()
        dates[name] = None
        if raw:
            try:
                dates[name] = datetime.fromisoformat(raw).replace(tzinfo=UTC)
            except ValueError:
                errors[name] = "Use the date picker (YYYY-MM-DDTHH:MM)."
    extra = 0
    raw_extra = (form.get("extra_attempts") or "").strip()
    if raw_extra:
        try:
            extra = int(raw_extra)
        except ValueError:
            errors["extra_attempts"] = "Extra attempts must be a whole number."
    reason = form.get("reason")
    terms = ExceptionTerms(dates["due_at"], dates["late_until"], extra)
    return terms, reason if isinstance(reason, str) else "", errors


def _check(assignment: Assignment, terms: ExceptionTerms) -> None:
    if not 0 <= terms.extra_attempts <= MAX_EXTRA_ATTEMPTS:
        raise Refused(f"Extra attempts must be between 0 and {MAX_EXTRA_ATTEMPTS}.")
    if terms.due_at is None and terms.late_until is None and not terms.extra_attempts:
        raise Refused(
            "Give a due date, a late cut-off or extra attempts (or remove the exception)."
        )
    due = timing.as_utc(terms.due_at) or timing.as_utc(assignment.due_at)
    until = timing.as_utc(terms.late_until)
    if until is not None and due is not None and until < due:
        raise Refused("The late cut-off cannot be before the due date.")


def student_of(session: Session, assignment: Assignment, user_id: int) -> User:
    """The user if they are a student of the assignment's course; Refused (404) otherwise."""
    user = teaching.student_in(session, assignment.course_id, user_id)
    if user is None:
        raise Refused("No such student in this course.", 404)
    return user


def _described(row: AssignmentException | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "due_at": _iso(row.due_at),
        "late_until": _iso(row.late_until),
        "extra_attempts": row.extra_attempts,
        "reason": row.reason,
    }


def _iso(moment: datetime | None) -> str | None:
    moment = timing.as_utc(moment)
    return moment.isoformat() if moment else None


def _find(session: Session, assignment: Assignment, user_id: int) -> AssignmentException | None:
    return session.scalar(
        select(AssignmentException)
        .where(
            AssignmentException.assignment_id == assignment.id,
            AssignmentException.user_id == user_id,
        )
        .with_for_update()
    )


def set_exception(
    session: Session,
    actor: User,
    assignment: Assignment,
    user_id: int,
    terms: ExceptionTerms,
    reason: Any,
) -> AssignmentException:
    """Create or replace the student's exception; audit, rescore, send. Caller commits."""
    student = student_of(session, assignment, user_id)
    _check(assignment, terms)
    why = read_reason(reason)
    old_due = student_terms.for_student(session, assignment, student.id).due_at
    row = _find(session, assignment, student.id)
    before = _described(row)
    if row is None:
        row = AssignmentException(
            assignment_id=assignment.id, user_id=student.id, created_by_id=actor.id
        )
        session.add(row)
    row.due_at, row.late_until = terms.due_at, terms.late_until
    row.extra_attempts, row.reason = terms.extra_attempts, why
    row.updated_at = utcnow()
    flush_or_refuse(session)
    _after_change(session, actor, assignment, student, old_due, "exception_set", why, before, row)
    return row


def remove_exception(
    session: Session, actor: User, assignment: Assignment, user_id: int, reason: Any
) -> None:
    """Remove the student's exception: the assignment's own terms apply again."""
    student = student_of(session, assignment, user_id)
    why = read_reason(reason)
    row = _find(session, assignment, student.id)
    if row is None:
        raise Refused("This student has no exception on this assignment.", 404)
    old_due = student_terms.for_student(session, assignment, student.id).due_at
    before = _described(row)
    session.delete(row)
    session.flush()
    _after_change(
        session, actor, assignment, student, old_due, "exception_removed", why, before, None
    )


def _after_change(
    session: Session,
    actor: User,
    assignment: Assignment,
    student: User,
    old_due: datetime | None,
    action: str,
    reason: str,
    before: dict[str, Any] | None,
    row: AssignmentException | None,
) -> None:
    terms = student_terms.terms(assignment, row)
    if timing.as_utc(old_due) != timing.as_utc(terms.due_at):
        assignment_editing.rescore(session, assignment, user_ids=[student.id])
    record_student_change(
        session,
        actor=actor,
        assignment=assignment,
        student_id=student.id,
        action=action,
        reason=reason,
        before=before,
        after=_described(row),
        summary=_summary(terms),
    )


def _summary(terms: student_terms.Terms) -> str:
    """The sentence the student reads: their dates and attempts now, never the reason."""
    due = terms.due_at
    words = [f"Your due date is {formats.time_words(due)}" if due else "You have no due date"]
    if terms.late_until:
        words.append(f"late work is accepted until {formats.time_words(terms.late_until)}")
    words.append(f"you have {terms.attempts_allowed} attempts per problem")
    return "; ".join(words) + "."
