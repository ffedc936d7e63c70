"""The SQLAlchemy implementation of graders.tasks.GradingStore, bound in each worker."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, exists, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from graders.feedback import Feedback
from graders.tasks import GradingJob, TransientError
from service.db import make_engine, make_session_factory, rows_changed, session_scope
from service.lti import passback
from service.models import (
    Assignment,
    AssignmentProblem,
    LtiIdentity,
    Problem,
    StoredVariant,
    Submission,
    SubmissionStatus,
    utcnow,
)
from service.services import scoring as scoring_rules
from service.services import sweep, variants

#: Statuses a worker must not touch again.
FINAL = (SubmissionStatus.graded, SubmissionStatus.failed)

#: Claimed submissions whose scoring context a process keeps at most (a claim that never
#: reaches save_feedback, e.g. a grading bug, must not make the cache grow for ever).
_MAX_CLAIMED = 1000


def _scoring_columns() -> list[Any]:
    """What grading and scoring a submission need, as columns of its own row.

    Correlated subqueries rather than joins, so that the same columns serve a plain read
    and the RETURNING clause of the claim (SQLite cannot return columns of other tables
    joined into an UPDATE). The item's points and late penalty are read at every claim,
    never cached: an instructor may change them, while the variant never changes.
    """
    assignment_problem = (
        select(AssignmentProblem)
        .join(StoredVariant, StoredVariant.assignment_problem_id == AssignmentProblem.id)
        .where(StoredVariant.id == Submission.variant_id)
        .correlate(Submission)
    )
    late_penalty = (
        select(Assignment.late_penalty)
        .join(AssignmentProblem, AssignmentProblem.assignment_id == Assignment.id)
        .join(StoredVariant, StoredVariant.assignment_problem_id == AssignmentProblem.id)
        .where(StoredVariant.id == Submission.variant_id)
        .correlate(Submission)
    )
    return [
        Submission.variant_id,
        Submission.answers,
        Submission.is_late,
        late_penalty.scalar_subquery().label("late_penalty"),
        assignment_problem.with_only_columns(AssignmentProblem.points)
        .scalar_subquery()
        .label("points"),
        assignment_problem.with_only_columns(AssignmentProblem.part_points)
        .scalar_subquery()
        .label("part_points"),
        exists()
        .where(LtiIdentity.user_id == Submission.user_id)
        .correlate(Submission)
        .label("from_lms"),
    ]


# Built once: on the worker's hot path, building a statement costs more than running it.
_CONTENT = select(StoredVariant.content).where(StoredVariant.id == bindparam("variant_id"))
_MARK_GRADING = (
    update(Submission)
    .where(Submission.id == bindparam("submission_id"), Submission.status.not_in(FINAL))
    .values(status=SubmissionStatus.grading, started_at=bindparam("now"))
)
#: The claim: one conditional UPDATE that also returns everything grading needs.
_CLAIM = _MARK_GRADING.returning(*_scoring_columns())
#: SQLite renders RETURNING columns without their table, which breaks the correlated
#: subqueries of _CLAIM; there the claim marks the row, then reads it.
_CLAIM_SQLITE = _MARK_GRADING.returning(Submission.id)
_SUBMISSION = select(*_scoring_columns()).where(Submission.id == bindparam("submission_id"))
_STORE_GRADE = (
    update(Submission)
    .where(
        Submission.id == bindparam("submission_id"),
        Submission.status != SubmissionStatus.graded,
    )
    .values(
        status=SubmissionStatus.graded,
        feedback=bindparam("feedback"),
        raw_score=bindparam("raw_score"),
        score=bindparam("score"),
        graded_at=bindparam("now"),
        failure_reason=None,
    )
)

#: Variants whose content a worker process keeps (they never change once stored).
_CACHED_VARIANTS = 256


@dataclass(frozen=True)
class _Scoring:
    """What turns a submission's feedback into its stored score, read when it was claimed."""

    content: dict[str, Any]
    is_late: bool
    late_penalty: float | None
    points: float | None
    part_points: dict[str, float] | None
    from_lms: bool


class SqlGradingStore:
    """Claims, results and variants in the relational database.

    The claim and the result are each one autocommitted statement (on SQLite the claim is
    two): a grading worker's cost is mostly round trips, and every statement here is safe
    on its own. Connections are not pinged before use, since a
    stale one raises OperationalError, which becomes TransientError and a retry.
    """

    def __init__(self, database_url: str, *, seed_key: bytes | None = None) -> None:
        """``seed_key`` (Settings.seed_key) lets this store issue variants; a worker has it."""
        self._seed_key = seed_key
        engine = make_engine(database_url, pre_ping=False)
        self.sessions: sessionmaker[Session] = make_session_factory(engine)
        self._autocommit = make_engine(database_url, pre_ping=False, autocommit=True)
        self._variant_content = lru_cache(maxsize=_CACHED_VARIANTS)(self._load_content)
        # Filled by claim and emptied by save_feedback, so storing a grade is one UPDATE.
        self._claimed: dict[int, _Scoring] = {}

    def claim(self, submission_id: int) -> GradingJob | None:
        try:
            with self._autocommit.connect() as connection:
                claimed = self._claim(connection, submission_id)
                if claimed is None:  # gone, or graded/failed already
                    return None
                scoring = self._scoring(claimed)
        except OperationalError as error:
            raise TransientError(str(error.orig)) from error
        if len(self._claimed) >= _MAX_CLAIMED:
            self._claimed.clear()
        self._claimed[submission_id] = scoring
        return GradingJob(submission_id, scoring.content, dict(claimed.answers))

    def save_feedback(self, submission_id: int, feedback: Feedback) -> bool:
        try:
            scoring = self._claimed.pop(submission_id, None)
            if scoring is None:  # not claimed by this process: read the context now
                with self._autocommit.connect() as connection:
                    row = connection.execute(_SUBMISSION, {"submission_id": submission_id})
                    found = row.one_or_none()
                    if found is None:
                        return False
                    scoring = self._scoring(found)
            raw, score = scoring_rules.stored_scores(
                feedback,
                scoring.content,
                total_points=scoring.points,
                fixed_part_points=scoring.part_points,
                is_late=scoring.is_late,
                late_penalty=scoring.late_penalty,
            )
            values = {
                "submission_id": submission_id,
                "feedback": feedback.to_dict(),
                "raw_score": raw,
                "score": score,
                "now": utcnow(),
            }
            if not scoring.from_lms:
                # Conditional update: of two workers racing on one submission, one stores.
                with self._autocommit.connect() as connection:
                    return rows_changed(connection.execute(_STORE_GRADE, values)) == 1
            with session_scope(self.sessions) as session:
                stored = rows_changed(session.execute(_STORE_GRADE, values)) == 1
                if stored:
                    # Same transaction as the grade: the LMS score send is never forgotten.
                    passback.after_graded(session, submission_id)
                return stored
        except OperationalError as error:
            raise TransientError(str(error.orig)) from error

    def _claim(self, connection: Connection, submission_id: int) -> Any:
        params = {"submission_id": submission_id, "now": utcnow()}
        if connection.dialect.name != "sqlite":
            return connection.execute(_CLAIM, params).one_or_none()
        if connection.execute(_CLAIM_SQLITE, params).one_or_none() is None:
            return None
        return connection.execute(_SUBMISSION, params).one()

    def _scoring(self, row: Any) -> _Scoring:
        return _Scoring(
            content=self._variant_content(row.variant_id),
            is_late=row.is_late,
            late_penalty=row.late_penalty,
            points=row.points,
            part_points=row.part_points,
            from_lms=bool(row.from_lms),
        )

    def _load_content(self, variant_id: int) -> dict[str, Any]:
        with self._autocommit.connect() as connection:
            return connection.execute(_CONTENT, {"variant_id": variant_id}).scalar_one()

    def fail(self, submission_id: int, reason: str) -> None:
        self._claimed.pop(submission_id, None)
        try:
            with session_scope(self.sessions) as session:
                session.execute(
                    update(Submission)
                    .where(
                        Submission.id == submission_id,
                        Submission.status != SubmissionStatus.graded,
                    )
                    .values(status=SubmissionStatus.failed, failure_reason=reason[:2000])
                )
        except OperationalError as error:
            raise TransientError(str(error.orig)) from error

    def stuck_submissions(self, older_than_seconds: float) -> list[int]:
        # Autocommitted: each re-queue is one conditional UPDATE, safe on its own.
        with self._autocommit.connect() as connection:
            return sweep.requeue_stuck(connection, older_than_seconds)

    def unpublished_submissions(self) -> list[int]:
        with self._autocommit.connect() as connection:
            return sweep.claim_unpublished(connection)

    def mark_unpublished(self, submission_ids: list[int]) -> None:
        with self._autocommit.connect() as connection:
            sweep.mark_unpublished(connection, submission_ids)

    def pending_variant(self, user_id: int, item_id: int) -> tuple[str, int] | None:
        if self._seed_key is None:
            raise RuntimeError("this grading store has no seed key: it cannot issue variants")
        with session_scope(self.sessions) as session:
            return variants.pending(session, self._seed_key, user_id, item_id)

    def save_variant(self, user_id: int, item_id: int, seed: int, content: dict[str, Any]) -> int:
        try:
            with session_scope(self.sessions) as session:
                return variants.store(session, user_id, item_id, seed, content).id
        except IntegrityError:
            with session_scope(self.sessions) as session:
                existing = variants.find(session, user_id, item_id)
                assert existing is not None
                return existing.id

    def problem_spec(self, problem_id: int) -> str | None:
        with session_scope(self.sessions) as session:
            problem = session.get(Problem, problem_id)
            return None if problem is None else problem.spec_text

    def save_selftest(self, problem_id: int, result: dict[str, Any]) -> None:
        with session_scope(self.sessions) as session:
            problem = session.get(Problem, problem_id)
            if problem is not None:
                problem.selftest = result
                problem.selftest_at = utcnow()
