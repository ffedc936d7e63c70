"""Sending again what never reached a worker: unpublished and stuck submissions.

Two ways a stored submission can miss its worker, each with its own pace:

- **Unpublished**: the broker refused the send (it was down). The web tier marks the row
  (``unpublished_at``), and a frequent beat task sends every marked row as soon as the
  broker carries messages again, within seconds of its return.
- **Stuck**: a message was sent but lost, or a worker died mid-grading. Only time tells
  these apart from slow work, so the sweep waits ``MIXGRADE_STUCK_AFTER`` seconds.

Several beat or sweep processes may run at once, and workers store grades meanwhile, so
every change here is a conditional UPDATE on the state that was read: a row is claimed
by one process only, and a grade stored in between is never turned back into "queued".
The caller commits (or runs on an autocommit connection) and then sends the ids returned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, case, or_, select, update

from service.db import rows_changed
from service.models import Submission, SubmissionStatus, utcnow

#: Rows handled per call: a big backlog is sent over a few runs, each a short transaction.
BATCH = 500

_QUEUED = Submission.status == SubmissionStatus.queued
_UNPUBLISHED = Submission.unpublished_at.is_not(None)  # the partial index's condition


@dataclass(frozen=True)
class Stuck:
    """A submission found stuck, with the state it was read in."""

    id: int
    status: SubmissionStatus
    #: queued_at for a queued row, started_at for one being graded.
    since: datetime


# Built once: the statements are the same on every run.
_MARK_UNPUBLISHED = (
    update(Submission)
    .where(Submission.id == bindparam("submission_id"), _QUEUED, ~_UNPUBLISHED)
    # It was counted as sent when it was stored; it was not.
    .values(unpublished_at=bindparam("now"), enqueue_count=Submission.enqueue_count - 1)
)
_CLAIM_UNPUBLISHED = (
    update(Submission)
    .where(
        # Re-checked on each row as it is updated: of two processes that picked the same
        # row, the second finds it claimed already and leaves it.
        _UNPUBLISHED,
        Submission.id.in_(
            select(Submission.id).where(_UNPUBLISHED).order_by(Submission.id).limit(BATCH)
        ),
    )
    .values(
        unpublished_at=None,
        # A row graded meanwhile (a duplicate message got there first) only loses its flag.
        enqueue_count=case((_QUEUED, Submission.enqueue_count + 1), else_=Submission.enqueue_count),
        queued_at=case((_QUEUED, bindparam("now")), else_=Submission.queued_at),
    )
    .returning(Submission.id, Submission.status)
)
_FIND_STUCK = (
    select(Submission.id, Submission.status, Submission.queued_at, Submission.started_at)
    .where(
        or_(
            _QUEUED & (Submission.queued_at < bindparam("cutoff")),
            (Submission.status == SubmissionStatus.grading)
            & (Submission.started_at < bindparam("cutoff")),
        )
    )
    .order_by(Submission.id)
    .limit(BATCH)
)


_REQUEUE_VALUES = {
    "status": SubmissionStatus.queued,
    "queued_at": bindparam("now"),
    "enqueue_count": Submission.enqueue_count + 1,
    "unpublished_at": None,
}
#: Re-queue one row only if it is still in the state the sweep read: same status, same
#: timestamp (a row re-queued and claimed again by another process has a newer one).
_REQUEUE = {
    SubmissionStatus.queued: update(Submission)
    .where(
        Submission.id == bindparam("submission_id"),
        _QUEUED,
        Submission.queued_at == bindparam("since"),
    )
    .values(**_REQUEUE_VALUES),
    SubmissionStatus.grading: update(Submission)
    .where(
        Submission.id == bindparam("submission_id"),
        Submission.status == SubmissionStatus.grading,
        Submission.started_at == bindparam("since"),
    )
    .values(**_REQUEUE_VALUES),
}


def mark_unpublished(connection: Connection, submission_ids: Iterable[int]) -> None:
    """Record that these queued submissions could not be handed to the broker."""
    now = utcnow()
    params = [{"submission_id": i, "now": now} for i in submission_ids]
    if params:
        connection.execute(_MARK_UNPUBLISHED, params)


def claim_unpublished(connection: Connection) -> list[int]:
    """Take the unpublished submissions to send now: one conditional UPDATE, in the index.

    Returns the ids still queued, each to be sent once by this caller; they count as
    sent from here on. If the send fails, ``mark_unpublished`` puts them back.
    """
    rows = connection.execute(_CLAIM_UNPUBLISHED, {"now": utcnow()}).all()
    return sorted(row.id for row in rows if row.status == SubmissionStatus.queued)


def find_stuck(connection: Connection, older_than_seconds: float) -> list[Stuck]:
    """Submissions queued or grading for longer than this, with the state they were read in."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    return [
        Stuck(
            id=row.id,
            status=row.status,
            since=row.queued_at if row.status == SubmissionStatus.queued else row.started_at,
        )
        for row in connection.execute(_FIND_STUCK, {"cutoff": cutoff})
    ]


def requeue(connection: Connection, stuck: Iterable[Stuck]) -> list[int]:
    """Stamp as re-queued each stuck row still as it was read; their ids, to send.

    One conditional UPDATE per row (the sweep finds few, rarely): a row graded, or
    re-queued by another sweep, since it was read is left alone.
    """
    now = utcnow()
    return [
        row.id
        for row in stuck
        if rows_changed(
            connection.execute(
                _REQUEUE[row.status], {"submission_id": row.id, "since": row.since, "now": now}
            )
        )
        == 1
    ]


def requeue_stuck(connection: Connection, older_than_seconds: float) -> list[int]:
    """Find submissions queued or grading for too long and stamp them as re-queued.

    The caller sends them to the queue again; one it cannot send is marked unpublished,
    and so is sent as soon as the broker is back. Grading is idempotent, so a late
    duplicate of a message thought lost does no harm.
    """
    return requeue(connection, find_stuck(connection, older_than_seconds))
