"""Submitting answers: save first, then queue; never lose a submission."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service import queue
from service.models import Submission, SubmissionStatus, User, Variant, utcnow


class AttemptsExhausted(Exception):
    """The student has used every attempt the assignment allows."""


def create(
    session: Session,
    user: User,
    variant: Variant,
    answers: dict[str, Any],
    *,
    attempts_allowed: int | None,
    is_late: bool = False,
    idempotency_key: str | None = None,
) -> tuple[Submission, bool]:
    """Store a submission as queued, commit it, then hand it to the queue.

    Returns (submission, queued). ``queued`` is False when the broker could not be
    reached: the submission is safely stored and the sweep sends it once the broker is
    back. The commit comes before the send so that a worker never sees an id that is not
    in the database, and a crash between the two loses nothing.
    """
    if idempotency_key:
        existing = session.scalar(
            select(Submission).where(
                Submission.user_id == user.id, Submission.idempotency_key == idempotency_key
            )
        )
        if existing is not None:
            return existing, True
    used = session.scalar(
        select(func.count()).select_from(Submission).where(Submission.variant_id == variant.id)
    )
    if attempts_allowed is not None and used >= attempts_allowed:
        raise AttemptsExhausted(f"all {attempts_allowed} attempts are used")
    submission = Submission(
        variant=variant,
        user=user,
        attempt_number=used + 1,
        answers=answers,
        status=SubmissionStatus.queued,
        is_late=is_late,
        idempotency_key=idempotency_key,
        enqueue_count=1,
    )
    session.add(submission)
    session.commit()
    return submission, queue.send_grading(submission.id)


def requeue_stuck(session: Session, older_than_seconds: float) -> list[int]:
    """Find submissions queued or grading for too long and stamp them as re-queued.

    The caller sends them to the queue again; if that fails they stay queued and the
    next sweep finds them. Grading is idempotent, so a late duplicate does no harm.
    """
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    rows = session.scalars(
        select(Submission)
        .where(
            or_(
                (Submission.status == SubmissionStatus.queued) & (Submission.queued_at < cutoff),
                (Submission.status == SubmissionStatus.grading) & (Submission.started_at < cutoff),
            )
        )
        .order_by(Submission.id)
        .limit(500)
    ).all()
    now = utcnow()
    for submission in rows:
        submission.status = SubmissionStatus.queued
        submission.queued_at = now
        submission.enqueue_count += 1
    return [s.id for s in rows]
