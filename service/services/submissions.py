"""Submitting answers: one use case for the web form and the API. Save first, then queue.

Every rule of a submit is written here once: closed and late (``timing``), the answers'
shape, length and normalisation (a blank answer is no answer), "nothing to submit",
unreadable answers, attempts and the ``Idempotency-Key``. A front end reads its input,
calls :func:`submit`, and turns the result or the :class:`Refused` it raises into its
own kind of response. A refusal always means nothing was stored, and says so.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol, cast

from sqlalchemy import BindParameter, Select, Table, bindparam, func, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from problem_bank.kinds import kind_of
from problem_bank.render import plural
from service import queue
from service.models import (
    Assignment,
    AssignmentException,
    AssignmentProblem,
    Enrollment,
    StoredVariant,
    Submission,
    SubmissionStatus,
    utcnow,
)
from service.services import answer_checks, student_terms, timing

#: Longest ``Idempotency-Key`` kept; a longer one is refused rather than cut (two keys
#: that differ only past the cut would otherwise replay each other).
MAX_KEY_CHARS = 255
#: Inserts tried when concurrent submits to the same variant keep taking the attempt
#: number first. Each retry sees the winners' rows, so this is reached only under a flood.
_MAX_INSERT_TRIES = 10
#: Seconds a client is told to wait after a 503 before it sends again.
RETRY_AFTER_SECONDS = 5


# ---------------------------------------------------------------------------- refusals


class Refused(Exception):
    """A submit that was refused: nothing was stored and no attempt was used.

    ``status`` and ``type`` are what both front ends answer with (HTML or JSON on the web,
    problem details in the API), so a rule's response is written once, with the rule.
    """

    status: ClassVar[int] = 422
    type: ClassVar[str] = "about:blank"
    retry_after: ClassVar[int | None] = None

    def __init__(self, detail: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


class Closed(Refused):
    status = 403
    type = "urn:mixgrade:problem:assignment-closed"


class Replaced(Refused):
    """The variant is an older version: the instructor gave the student a new one."""

    status = 409
    type = "urn:mixgrade:problem:version-replaced"


class AttemptsExhausted(Refused):
    """The student has used every attempt the assignment allows."""

    status = 409
    type = "urn:mixgrade:problem:attempts-exhausted"


class Unreadable(Refused):
    """An answer has the wrong shape, is too long, or cannot be parsed (``errors`` by part)."""

    type = "urn:mixgrade:problem:unreadable-answers"


class NothingToSubmit(Unreadable):
    """Every answer is blank."""


class BadIdempotencyKey(Refused):
    status = 400
    type = "urn:mixgrade:problem:bad-idempotency-key"


class KeyReused(Refused):
    """The key was used before on another variant, or with other answers."""

    status = 409
    type = "urn:mixgrade:problem:idempotency-key-reused"


class NotSaved(Refused):
    """The database could not store the submission, even after one retry."""

    status = 503
    type = "urn:mixgrade:problem:not-saved"
    retry_after = RETRY_AFTER_SECONDS


#: What an accepted submission says when the broker was down: it is stored, not yet queued.
GRADING_PAUSED = "Saved. Grading is paused and will resume automatically."
_USED_UP = "No attempts left: {allowed} allowed, all used, so these answers were not stored."


def _used_up_message(allowed: int) -> str:
    return _USED_UP.format(allowed=plural(allowed, "attempt"))


_CLOSED = "This assignment is closed; no more submissions. These answers were not stored."
_REPLACED = (
    "Your instructor gave you a new version of this problem (a new dataset), so answers to "
    "this older version are no longer taken. These answers were not stored; open the "
    "problem again to see the new version."
)
_REMOVED = (
    "This problem was removed from the assignment; your earlier submissions are kept, but "
    "no new ones are taken. These answers were not stored."
)
_KEY_REUSED = (
    "This Idempotency-Key was already used for a different submission (another problem or "
    "other answers), so these answers were NOT stored. Send them again with a new key."
)
_LOST = (
    "The connection to the database was lost, so your answers were NOT saved and no "
    "attempt was used. Please submit again in a few seconds."
)
_UNCONFIRMED = (
    "The connection to the database was lost while your answers were being saved, and it "
    "could not be confirmed that they were stored. In a few seconds, reload the problem "
    "page to see whether this attempt is listed before you submit again."
)
_CROWDED = (
    "Too many submissions to this problem arrived at the same moment, so your answers were "
    "NOT saved. Please submit again."
)


# ------------------------------------------------------------------------- the target


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
class Target:
    """The variant being answered, as much of it as a submit needs, however it was found."""

    variant_id: int
    parts: list[dict[str, Any]]
    #: None for a practice variant: no attempt limit and no dates (it never closes).
    attempts_allowed: int | None
    dates: timing.Dated | None
    #: The variant's submissions, when the read that found the target counted them.
    attempts_used: int | None = None
    #: An instructor gave the student a newer version: this one takes no more answers.
    replaced: bool = False
    #: The problem was removed from the assignment (archived with its submissions).
    removed: bool = False

    @classmethod
    def of_variant(cls, session: Session, variant: StoredVariant) -> Target:
        """The target of a loaded variant (practice or an assignment's), on the student's
        own terms (an exception's dates and extra attempts)."""
        parts = variant.content.get("parts", [])
        if variant.is_practice:
            return cls(variant.id, parts, attempts_allowed=None, dates=None)
        assignment_problem = variant.assignment_problem
        assert assignment_problem is not None, "an assignment's variant belongs to one of its items"
        terms = student_terms.for_student(session, assignment_problem.assignment, variant.user_id)
        return cls(
            variant.id,
            parts,
            terms.attempts_allowed,
            dates=terms,
            replaced=variant.replaced_at is not None,
            removed=assignment_problem.archived_at is not None,
        )


@dataclass(frozen=True)
class AssignmentProblemTarget:
    """An assignment item as one student submits to it, read in one round trip.

    Only the variant's parts are read: its dataset, printed output and scripts are the
    bulk of the stored content and play no part in reading or storing answers.
    """

    item_id: int
    enrolled: bool
    #: The student's own terms: an exception's dates and extra attempts already applied.
    due_at: datetime | None
    late_until: datetime | None
    attempts_allowed: int
    #: None while the student's variant of the item is not issued yet.
    variant_id: int | None
    parts: list[dict[str, Any]]
    attempts_used: int
    #: The problem was removed from the assignment after students had submitted.
    archived: bool = False

    def target(self) -> Target:
        assert self.variant_id is not None, "issue the variant first"
        return Target(
            self.variant_id,
            self.parts,
            self.attempts_allowed,
            dates=self,
            attempts_used=self.attempts_used,
            removed=self.archived,
        )


def _assignment_problem_target_query() -> Select[Any]:
    user_id: BindParameter[int] = bindparam("user_id")
    enrolled = (Enrollment.course_id == Assignment.course_id) & (Enrollment.user_id == user_id)
    own_variant = (
        (StoredVariant.assignment_problem_id == AssignmentProblem.id)
        & (StoredVariant.user_id == user_id)
        & StoredVariant.is_practice.is_(False)
        & StoredVariant.replaced_at.is_(None)
        & Enrollment.id.is_not(None)
    )
    own_terms = (
        (AssignmentException.assignment_id == Assignment.id)
        & (AssignmentException.user_id == user_id)
        & Enrollment.id.is_not(None)
    )
    used = (
        select(func.count())
        .select_from(Submission)
        .where(Submission.variant_id == StoredVariant.id)
        .scalar_subquery()
    )
    return (
        select(
            Assignment.due_at,
            Assignment.late_until,
            Assignment.attempts_allowed,
            AssignmentProblem.archived_at,
            Enrollment.id.label("enrollment_id"),
            StoredVariant.id.label("variant_id"),
            StoredVariant.content["parts"].label("parts"),
            used.label("attempts_used"),
            AssignmentException.due_at.label("own_due_at"),
            AssignmentException.late_until.label("own_late_until"),
            AssignmentException.extra_attempts,
        )
        .select_from(AssignmentProblem)
        .join(Assignment, Assignment.id == AssignmentProblem.assignment_id)
        .outerjoin(Enrollment, enrolled)
        .outerjoin(StoredVariant, own_variant)
        .outerjoin(AssignmentException, own_terms)
        .where(AssignmentProblem.id == bindparam("item_id"))
    )


#: Built once: constructing the statement costs more than running it.
_ASSIGNMENT_PROBLEM_TARGET = _assignment_problem_target_query()


def assignment_problem_target(
    session: Session, user_id: int, item_id: int
) -> AssignmentProblemTarget | None:
    """The item, whether the user is enrolled in its course, and their variant of it.

    None when the item does not exist. The variant is looked up only for an enrolled user,
    so nothing about another course's item is read for someone outside it.
    """
    # On the session's connection: the statement reads plain columns, so the ORM's result
    # processing (entities, identity map) has nothing to do but would still cost its time.
    params = {"user_id": user_id, "item_id": item_id}
    try:
        row = session.connection().execute(_ASSIGNMENT_PROBLEM_TARGET, params).one_or_none()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        # The submit's first read; nothing is written yet, so one more try on a fresh
        # connection is safe (the INSERT and COMMIT have their own, in ``create``).
        session.rollback()
        row = session.connection().execute(_ASSIGNMENT_PROBLEM_TARGET, params).one_or_none()
    if row is None:
        return None
    due_at, late_until, attempts_allowed = student_terms.combine(
        row.due_at,
        row.late_until,
        row.attempts_allowed,
        exception_due_at=row.own_due_at,
        exception_late_until=row.own_late_until,
        extra_attempts=row.extra_attempts,
    )
    return AssignmentProblemTarget(
        item_id=item_id,
        enrolled=row.enrollment_id is not None,
        due_at=due_at,
        late_until=late_until,
        attempts_allowed=attempts_allowed,
        variant_id=row.variant_id,
        parts=row.parts or [],
        attempts_used=row.attempts_used or 0,
        archived=row.archived_at is not None,
    )


# -------------------------------------------------------------------------- the answers


def clean_answers(parts: list[dict[str, Any]], raw: dict[str, Any]) -> dict[str, Any]:
    """Answers keyed by the variant's part ids, in shapes the grader reads.

    ``raw`` is part id → what was sent: a text or number, a list of those (multi-select
    and table parts), or None. Blank text counts as no answer. Raises :class:`Unreadable`
    naming each part that is unknown, mis-shaped, too long or unparseable, and
    :class:`NothingToSubmit` when every answer is blank: nothing is stored either way.
    """
    kinds = {p["id"]: p["kind"] for p in parts}
    errors: dict[str, str] = {}
    for part_id in sorted(set(raw) - set(kinds)):
        errors[part_id] = f"there is no part {part_id!r}; parts are {', '.join(kinds)}"
    answers: dict[str, Any] = {}
    for part_id, kind in kinds.items():
        value = raw.get(part_id)
        problem = _shape_problem(kind, value)
        if problem:
            errors[part_id] = problem
        else:
            answers[part_id] = _normalise(value)
    if not errors and all(v is None for v in answers.values()):
        raise NothingToSubmit("Nothing to submit: every answer is empty.")
    errors = errors or answer_checks.unreadable_parts({"parts": parts}, answers)
    if errors:
        raise Unreadable(
            "Some answers could not be read: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
            errors,
        )
    return answers


def _shape_problem(kind: str, value: Any) -> str | None:
    """Why an API value cannot be the part's answer, as its kind says (None: readable)."""
    if value is None:
        return None
    return kind_of(kind).shape_problem(value) or None


def _normalise(value: Any) -> Any:
    """Blank text (or a list of blanks) is no answer, in the web form and the API alike."""
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, list) and not any(str(v).strip() for v in value):
        return None
    return value


def answers_digest(answers: dict[str, Any]) -> str:
    """SHA-256 of the normalised answers in a canonical JSON form (sorted keys)."""
    text = json.dumps(answers, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def checked_key(key: str | None) -> str | None:
    """The ``Idempotency-Key`` as sent, or :class:`BadIdempotencyKey` when unusable."""
    if key is None:
        return None
    if not key.strip():
        raise BadIdempotencyKey("The Idempotency-Key header is empty; nothing was stored.")
    if len(key) > MAX_KEY_CHARS:
        raise BadIdempotencyKey(
            f"The Idempotency-Key header is {len(key)} characters long; at most "
            f"{MAX_KEY_CHARS} are accepted. Nothing was stored."
        )
    return key


# ------------------------------------------------------------------------ the use case


def submit(
    session: Session,
    user: Stored,
    target: Target,
    raw_answers: dict[str, Any],
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[Accepted, bool]:
    """Check, store and queue one submission; returns (submission, queued).

    A resent ``idempotency_key`` with the same variant and answers returns the first
    submission, even once the assignment has closed or its attempts are used up.
    Raises a :class:`Refused` subclass for everything that is not stored.
    """
    key = checked_key(idempotency_key)
    answers = clean_answers(target.parts, raw_answers)
    dates = target.dates
    refusal: Refused | None = None
    if target.replaced:
        refusal = Replaced(_REPLACED)
    elif target.removed:
        refusal = Closed(_REMOVED)
    elif dates is not None and timing.is_closed(dates, now):
        refusal = Closed(_CLOSED)
    elif target.attempts_allowed is not None and _used_up(
        target.attempts_allowed, target.attempts_used
    ):
        refusal = AttemptsExhausted(_used_up_message(target.attempts_allowed))
    if refusal is not None:
        return _replay_or(
            session, user.id, target.variant_id, key, answers_digest(answers), refusal
        )
    return create(
        session,
        user,
        _Id(target.variant_id),
        answers,
        attempts_allowed=target.attempts_allowed,
        is_late=dates is not None and timing.is_late(dates, now),
        idempotency_key=key,
    )


@dataclass(frozen=True)
class _Id:
    id: int


def _used_up(allowed: int | None, used: int | None) -> bool:
    return allowed is not None and used is not None and used >= allowed


def _insert_next_attempt(*, capped: bool) -> Any:
    """INSERT … SELECT numbering the attempt in the statement itself: max + 1.

    On SQLite the statement holds the write lock from its start, so it cannot race. On
    PostgreSQL two statements may read the same max; the unique (variant_id,
    attempt_number) constraint fails the second, which :func:`create` retries. When
    ``capped``, the SELECT yields no row once ``attempts_allowed`` are used, so the check
    and the insert are one statement.
    """
    table = cast(Table, Submission.__table__)
    c = table.c
    next_attempt = (
        select(func.coalesce(func.max(c.attempt_number), 0) + 1)
        .where(c.variant_id == bindparam("variant_id", type_=c.variant_id.type))
        .scalar_subquery()
    )
    names = [
        "variant_id",
        "user_id",
        "answers",
        "answers_sha256",
        "status",
        "is_late",
        "idempotency_key",
        "enqueue_count",
        "created_at",
        "queued_at",
    ]
    values = [bindparam(name, type_=c[name].type) for name in names]
    source = select(*values, next_attempt)
    if capped:
        source = source.where(
            next_attempt <= bindparam("attempts_allowed", type_=c.attempt_number.type)
        )
    return (
        insert(table)
        .from_select([*names, "attempt_number"], source, include_defaults=False)
        .returning(c.id, c.attempt_number)
    )


#: Built once, on the table rather than the mapped class: the ORM's unit of work (flush,
#: identity map, refresh) costs several times the INSERT itself on the submit hot path.
_INSERT_SUBMISSION = _insert_next_attempt(capped=False)
_INSERT_CAPPED_SUBMISSION = _insert_next_attempt(capped=True)

_EARLIER_WITH_KEY = select(
    Submission.id,
    Submission.status,
    Submission.variant_id,
    Submission.answers,
    Submission.answers_sha256,
).where(
    Submission.user_id == bindparam("user_id"),
    Submission.idempotency_key == bindparam("idempotency_key"),
)

#: The row a try inserted before its COMMIT failed, if that COMMIT reached the database.
_INSERTED_BEFORE = select(Submission.id, Submission.status).where(
    Submission.id == bindparam("id"),
    Submission.user_id == bindparam("user_id"),
    Submission.variant_id == bindparam("variant_id"),
    Submission.answers_sha256 == bindparam("answers_sha256"),
)


def create(
    session: Session,
    user: Stored,
    variant: Stored,
    answers: dict[str, Any],
    *,
    attempts_allowed: int | None,
    is_late: bool = False,
    idempotency_key: str | None = None,
) -> tuple[Accepted, bool]:
    """Store normalised answers as queued with the next attempt number, commit, then queue.

    Returns (submission, queued). ``queued`` is False when the broker could not be
    reached: the submission is safely stored, marked unpublished, and sent within seconds
    of the broker's return (services/sweep.py). The commit comes before the send so that a
    worker never sees an id that is not in the database, and a crash between the two loses
    nothing.

    The attempt number comes from the database (see :func:`_insert_next_attempt`), so
    concurrent submits never store more than ``attempts_allowed``. A repeated
    ``idempotency_key`` is found by the unique (user_id, idempotency_key) constraint, not
    by a read before the insert: the common path stays one INSERT and one COMMIT. A
    dropped connection is retried once (nothing was committed, or the retry finds the row
    the lost COMMIT stored); a second loss raises :class:`NotSaved`.
    """
    # Ids first: a rollback expires ORM objects, and reloading one needs the database.
    user_id, variant_id = user.id, variant.id
    digest = answers_digest(answers)
    now = utcnow()
    values = {
        "variant_id": variant_id,
        "user_id": user_id,
        "answers": answers,
        "answers_sha256": digest,
        "status": SubmissionStatus.queued,
        "is_late": is_late,
        "idempotency_key": idempotency_key,
        "enqueue_count": 1,
        "created_at": now,
        "queued_at": now,
    }
    statement = _INSERT_SUBMISSION
    if attempts_allowed is not None:
        statement, values["attempts_allowed"] = _INSERT_CAPPED_SUBMISSION, attempts_allowed
    connection_lost = False
    unconfirmed: int | None = None  # id inserted by a try whose COMMIT failed
    for _ in range(_MAX_INSERT_TRIES):
        inserted: int | None = None
        try:
            if unconfirmed is not None:
                params = {"id": unconfirmed, "user_id": user_id, "variant_id": variant_id}
                found = session.execute(_INSERTED_BEFORE, {**params, "answers_sha256": digest})
                row = found.one_or_none()
                unconfirmed = None
                if row is not None:  # the lost COMMIT had stored it
                    session.rollback()
                    return _sent(StoredSubmission(row.id, row.status))
            row = session.connection().execute(statement, values).one_or_none()
            if row is None:  # every attempt is used
                session.rollback()
                refusal = AttemptsExhausted(_used_up_message(attempts_allowed or 0))
                return _replay_or(session, user_id, variant_id, idempotency_key, digest, refusal)
            inserted = row.id
            session.commit()
        except IntegrityError:
            # Another submit took this attempt number, or this key, first.
            session.rollback()
            if idempotency_key is not None:
                earlier = _replay(session, user_id, variant_id, idempotency_key, digest)
                if earlier is not None:
                    return earlier
            continue
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            session.rollback()
            if connection_lost:
                raise NotSaved(_UNCONFIRMED if inserted is not None else _LOST) from error
            connection_lost, unconfirmed = True, inserted
            continue
        return _sent(StoredSubmission(inserted, SubmissionStatus.queued))
    raise NotSaved(_CROWDED)


def _sent(submission: StoredSubmission) -> tuple[Accepted, bool]:
    return submission, queue.send_grading(submission.id)


def _replay(
    session: Session, user_id: int, variant_id: int, key: str, digest: str
) -> tuple[Accepted, bool] | None:
    """The submission first stored under ``key``: None if there is none.

    Raises :class:`KeyReused` when it was for another variant or other answers, so the
    new answers are never silently replaced by the old ones.
    """
    params = {"user_id": user_id, "idempotency_key": key}
    earlier = session.execute(_EARLIER_WITH_KEY, params).one_or_none()
    if earlier is None:
        return None
    # Rows stored before the digest column existed are hashed now, the same way.
    stored = earlier.answers_sha256 or answers_digest(earlier.answers)
    if earlier.variant_id != variant_id or stored != digest:
        raise KeyReused(_KEY_REUSED)
    return StoredSubmission(earlier.id, earlier.status), True


def _replay_or(
    session: Session,
    user_id: int,
    variant_id: int,
    key: str | None,
    digest: str,
    refusal: Refused,
) -> tuple[Accepted, bool]:
    """The submission ``key`` already stored, else raise ``refusal``."""
    earlier = _replay(session, user_id, variant_id, key, digest) if key else None
    if earlier is None:
        raise refusal
    return earlier
