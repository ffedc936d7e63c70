"""An instructor overrides the points of one part of an attempt, or of the whole attempt.

The override is its own row (``ScoreOverride``): the stored submission score is what the
grader gave and is never rewritten, so removing an override brings the grader's points
back. At most one override is current per (submission, part) — ``part_id`` None is the
whole attempt — and replacing one keeps the old value in the audit log. The score policy
counts overrides (``scoring.earned``), and the new assignment total goes to the LMS in the
same transaction.

Concurrent overrides of one attempt are serialised on the submission row (``FOR UPDATE``
on PostgreSQL; SQLite writes one at a time anyway), so two instructors saving at once
never leave two current rows or a 500.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.lti import passback
from service.models import Assignment, ScoreOverride, Submission, User, utcnow
from service.services import audit, scoring

#: The longest reason kept: a sentence or a short paragraph, not an essay.
MAX_REASON = 2000


#: What a save that lost a race with another instructor's save of the same thing is told.
RACED = "Someone saved a change to this at the same moment; reload the page and try again."


class Refused(ValueError):
    """An override that cannot be stored, with the status and message to answer with."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def flush_or_refuse(session: Session) -> None:
    """Flush; a unique row another request created first is a 409, never a 500.

    The caller rolls the transaction back on Refused, as on any refusal.
    """
    try:
        session.flush()
    except IntegrityError:
        raise Refused(RACED, 409) from None


def read_reason(raw: Any) -> str:
    """The reason, trimmed: required, because the student and the audit log read it."""
    reason = raw.strip() if isinstance(raw, str) else ""
    if not reason:
        raise Refused("Give a reason: the student and the audit log see it.")
    if len(reason) > MAX_REASON:
        raise Refused(f"The reason is longer than {MAX_REASON} characters.")
    return reason


def read_points(raw: Any, possible: float) -> float:
    """Points between 0 and what the part (or attempt) is worth."""
    if isinstance(raw, bool):
        raise Refused("Points must be a number.")
    try:
        points = float(raw.strip() if isinstance(raw, str) else raw)
    except (TypeError, ValueError):
        raise Refused(f"Points must be a number, not {str(raw)[:40]!r}.") from None
    if not math.isfinite(points):
        raise Refused("Points must be a finite number.")
    if points < 0 or points > possible + 1e-9:
        raise Refused(f"Points must be between 0 and {scoring_words(possible)}.")
    return points


def scoring_words(points: float) -> str:
    return f"{points:.2f}".rstrip("0").rstrip(".")


def possible_for(submission: Submission, part_id: str | None) -> tuple[float, str]:
    """(points the part or attempt is worth, how to name it); Refused for an unknown part."""
    variant = submission.variant
    assignment_problem = variant.assignment_problem
    if assignment_problem is None or variant.is_practice:
        raise Refused("Practice attempts do not count, so they cannot be overridden.", 409)
    available = scoring.assignment_problem_part_points(assignment_problem, variant.content)
    if part_id is None:
        return sum(available.values()), f"attempt {submission.attempt_number}"
    if part_id not in available:
        raise Refused(f"This problem has no part {part_id!r}.")
    number = list(available).index(part_id) + 1
    return available[part_id], f"part {number} of attempt {submission.attempt_number}"


def _locked(session: Session, submission: Submission) -> list[ScoreOverride]:
    """Lock the submission row, then read its overrides: one writer per attempt at a time."""
    session.execute(select(Submission.id).where(Submission.id == submission.id).with_for_update())
    return list(
        session.scalars(select(ScoreOverride).where(ScoreOverride.submission_id == submission.id))
    )


def _earned_points(
    submission: Submission, overrides: Iterable[ScoreOverride], part_id: str | None
) -> float | None:
    """What the attempt (or part) counts for now, before the change: the audit's 'old'."""
    variant = submission.variant
    assert variant.assignment_problem is not None
    got = scoring.earned(variant.assignment_problem, variant.content, submission, list(overrides))
    if got is None:
        return None
    return got.total if part_id is None else got.per_part.get(part_id)


def set_override(
    session: Session,
    actor: User,
    submission: Submission,
    part_id: str | None,
    points: Any,
    reason: Any,
) -> ScoreOverride:
    """Store (or replace) the override; audit it; record the LMS total. Caller commits."""
    part_id = part_id or None
    possible, named = possible_for(submission, part_id)
    value = read_points(points, possible)
    why = read_reason(reason)
    current = _locked(session, submission)
    old_points = _earned_points(submission, current, part_id)
    existing = next((o for o in current if o.part_id == part_id), None)
    before: dict[str, Any] = {"points": _rounded(old_points), "overridden": existing is not None}
    if existing is not None:
        before["reason"] = existing.reason
        existing.points, existing.reason, existing.created_by_id = value, why, actor.id
        existing.created_at = utcnow()
        row = existing
    else:
        row = ScoreOverride(
            submission_id=submission.id,
            part_id=part_id,
            points=value,
            reason=why,
            created_by_id=actor.id,
        )
        session.add(row)
    flush_or_refuse(session)
    _record(
        session,
        actor,
        submission,
        "score_override",
        why,
        before,
        {"points": _rounded(value), "possible": _rounded(possible), "part_id": part_id},
        f"Your instructor changed {named} to {scoring_words(value)}/{scoring_words(possible)}:"
        f" {why}",
    )
    return row


def remove_override(
    session: Session, actor: User, submission: Submission, part_id: str | None, reason: Any
) -> None:
    """Remove the current override of the part (or attempt): the grader's points count again."""
    part_id = part_id or None
    _, named = possible_for(submission, part_id)
    why = read_reason(reason)
    current = _locked(session, submission)
    existing = next((o for o in current if o.part_id == part_id), None)
    if existing is None:
        raise Refused(f"There is no override of {named} to remove.", 404)
    before = {"points": _rounded(existing.points), "reason": existing.reason, "part_id": part_id}
    session.delete(existing)
    session.flush()
    rest = [o for o in current if o is not existing]
    after = {"points": _rounded(_earned_points(submission, rest, part_id)), "part_id": part_id}
    _record(
        session,
        actor,
        submission,
        "override_removed",
        why,
        before,
        after,
        f"Your instructor removed the change to {named}: {why}",
    )


def _record(
    session: Session,
    actor: User,
    submission: Submission,
    action: str,
    reason: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    summary: str,
) -> None:
    assignment_problem = submission.variant.assignment_problem
    assert assignment_problem is not None
    record_student_change(
        session,
        actor=actor,
        assignment=assignment_problem.assignment,
        student_id=submission.user_id,
        action=action,
        reason=reason,
        before=dict(before),
        after=dict(after),
        summary=summary,
        assignment_problem_id=assignment_problem.id,
        submission_id=submission.id,
    )


def record_student_change(
    session: Session,
    *,
    actor: User,
    assignment: Assignment,
    student_id: int,
    action: str,
    reason: str,
    before: Any,
    after: Any,
    summary: str,
    assignment_problem_id: int | None = None,
    submission_id: int | None = None,
) -> None:
    """Audit one instructor change to a student's work and record their new LMS total:
    the last step of each use case here, in exception_editing and in new_versions."""
    audit.record(
        session,
        course_id=assignment.course_id,
        actor_id=actor.id,
        action=action,
        reason=reason,
        before=before,
        after=after,
        student_id=student_id,
        assignment_id=assignment.id,
        assignment_problem_id=assignment_problem_id,
        submission_id=submission_id,
        summary=summary,
    )
    passback.record_totals(session, assignment, [student_id])


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
