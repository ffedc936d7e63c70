"""Submitting answers: save first, then queue; never lose a submission."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select, bindparam, func, insert, select
from sqlalchemy.orm import Session

from service import queue
from service.models import (
    Assignment,
    AssignmentProblem,
    Enrollment,
    Submission,
    SubmissionStatus,
    Variant,
)


class AttemptsExhausted(Exception):
    """The student has used every attempt the assignment allows."""


class Stored(Protocol):
    """A stored row, known by its id (an ORM object, or a lighter stand-in for one)."""

    @property
    def id(self) -> int: ...


class Accepted(Protocol):
    """What the caller of :func:`create` reads of the submission: its id and status."""

    @property
    def id(self) -> int: ...

    @property
    def status(self) -> SubmissionStatus: ...


@dataclass(frozen=True)
class StoredSubmission:
    """A submission just inserted; its row, not an ORM object, is the record of it."""

    id: int
    status: SubmissionStatus


@dataclass(frozen=True)
class ItemTarget:
    """An assignment item as one student submits to it, read in one round trip.

    Only the variant's parts are read: its dataset, printed output and scripts are the
    bulk of the stored content and play no part in reading or storing answers.
    """

    item_id: int
    enrolled: bool
    due_at: datetime | None
    late_until: datetime | None
    attempts_allowed: int
    #: None while the student's variant of the item is not issued yet.
    variant_id: int | None
    parts: list[dict[str, Any]]
    attempts_used: int


def _item_target_query() -> Select[Any]:
    user_id = bindparam("user_id")
    enrolled = (Enrollment.course_id == Assignment.course_id) & (Enrollment.user_id == user_id)
    own_variant = (
        (Variant.assignment_problem_id == AssignmentProblem.id)
        & (Variant.user_id == user_id)
        & Variant.is_practice.is_(False)
        & Enrollment.id.is_not(None)
    )
    used = (
        select(func.count())
        .select_from(Submission)
        .where(Submission.variant_id == Variant.id)
        .scalar_subquery()
    )
    return (
        select(
            Assignment.due_at,
            Assignment.late_until,
            Assignment.attempts_allowed,
            Enrollment.id.label("enrollment_id"),
            Variant.id.label("variant_id"),
            Variant.content["parts"].label("parts"),
            used.label("attempts_used"),
        )
        .select_from(AssignmentProblem)
        .join(Assignment, Assignment.id == AssignmentProblem.assignment_id)
        .outerjoin(Enrollment, enrolled)
        .outerjoin(Variant, own_variant)
        .where(AssignmentProblem.id == bindparam("item_id"))
    )


#: Built once: constructing the statement costs more than running it.
_ITEM_TARGET = _item_target_query()


def item_target(session: Session, user_id: int, item_id: int) -> ItemTarget | None:
    """The item, whether the user is enrolled in its course, and their variant of it.

    None when the item does not exist. The variant is looked up only for an enrolled user,
    so nothing about another course's item is read for someone outside it.
    """
    # On the session's connection: the statement reads plain columns, so the ORM's result
    # processing (entities, identity map) has nothing to do but would still cost its time.
    params = {"user_id": user_id, "item_id": item_id}
    row = session.connection().execute(_ITEM_TARGET, params).one_or_none()
    if row is None:
        return None
    return ItemTarget(
        item_id=item_id,
        enrolled=row.enrollment_id is not None,
        due_at=row.due_at,
        late_until=row.late_until,
        attempts_allowed=row.attempts_allowed,
        variant_id=row.variant_id,
        parts=row.parts or [],
        attempts_used=row.attempts_used or 0,
    )


#: Built once, on the table rather than the mapped class: the ORM's unit of work (flush,
#: identity map, refresh) costs several times the INSERT itself on the submit hot path.
#: Column defaults (``created_at``, ``queued_at``) are still applied by Core.
_INSERT_SUBMISSION = insert(Submission.__table__)


def create(
    session: Session,
    user: Stored,
    variant: Stored,
    answers: dict[str, Any],
    *,
    attempts_allowed: int | None,
    is_late: bool = False,
    idempotency_key: str | None = None,
    attempts_used: int | None = None,
) -> tuple[Accepted, bool]:
    """Store a submission as queued, commit it, then hand it to the queue.

    Returns (submission, queued). ``queued`` is False when the broker could not be
    reached: the submission is safely stored and the sweep sends it once the broker is
    back. The commit comes before the send so that a worker never sees an id that is not
    in the database, and a crash between the two loses nothing. ``attempts_used`` is the
    count of the variant's submissions when the caller has just read it (``item_target``),
    which saves a query. A new submission comes back as a :class:`StoredSubmission`; a
    repeated ``idempotency_key`` returns the stored ORM ``Submission``.
    """
    if idempotency_key:
        existing = session.scalar(
            select(Submission).where(
                Submission.user_id == user.id, Submission.idempotency_key == idempotency_key
            )
        )
        if existing is not None:
            return existing, True
    used = attempts_used
    if used is None:
        used = session.scalar(
            select(func.count()).select_from(Submission).where(Submission.variant_id == variant.id)
        )
    if attempts_allowed is not None and used >= attempts_allowed:
        raise AttemptsExhausted(f"all {attempts_allowed} attempts are used")
    result = session.connection().execute(
        _INSERT_SUBMISSION,
        {
            "variant_id": variant.id,
            "user_id": user.id,
            "attempt_number": used + 1,
            "answers": answers,
            "status": SubmissionStatus.queued,
            "is_late": is_late,
            "idempotency_key": idempotency_key,
            "enqueue_count": 1,
        },
    )
    submission = StoredSubmission(id=result.inserted_primary_key[0], status=SubmissionStatus.queued)
    session.commit()
    return submission, queue.send_grading(submission.id)
