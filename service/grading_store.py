"""The SQLAlchemy implementation of graders.tasks.GradingStore, bound in each worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, exists, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from graders.feedback import Feedback
from graders.tasks import GradingJob, TransientError
from service.db import make_engine, make_session_factory, session_scope
from service.lti import passback
from service.models import (
    Assignment,
    AssignmentProblem,
    LtiIdentity,
    Problem,
    Submission,
    SubmissionStatus,
    utcnow,
)
from service.models import Variant as VariantRow
from service.services import scoring as scoring_rules
from service.services import variants
from service.services.submissions import requeue_stuck

#: Statuses a worker must not touch again.
FINAL = (SubmissionStatus.graded, SubmissionStatus.failed)

#: Claimed submissions whose scoring context a process keeps at most (a claim that never
#: reaches save_feedback, e.g. a grading bug, must not make the cache grow for ever).
_MAX_CLAIMED = 1000


def _scoring(row: Any) -> _Scoring:
    return _Scoring(
        content=row.content,
        is_late=row.is_late,
        late_penalty=row.late_penalty,
        points=row.points,
        part_points=row.part_points,
        from_lms=bool(row.from_lms),
    )


def _grading_query() -> Select[Any]:
    """Everything grading and scoring one submission needs, in one round trip."""
    return (
        select(
            Submission.status,
            Submission.answers,
            Submission.is_late,
            VariantRow.content,
            Assignment.late_penalty,
            AssignmentProblem.points,
            AssignmentProblem.part_points,
            exists().where(LtiIdentity.user_id == Submission.user_id).label("from_lms"),
        )
        .join(VariantRow, VariantRow.id == Submission.variant_id)
        .outerjoin(AssignmentProblem, AssignmentProblem.id == VariantRow.assignment_problem_id)
        .outerjoin(Assignment, Assignment.id == AssignmentProblem.assignment_id)
        .where(Submission.id == bindparam("submission_id"))
    )


# Built once: on the worker's hot path, building a statement costs more than running it.
_GRADING = _grading_query()
_MARK_GRADING = (
    update(Submission)
    .where(Submission.id == bindparam("submission_id"), Submission.status.not_in(FINAL))
    .values(status=SubmissionStatus.grading, started_at=bindparam("now"))
)
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
    """Claims, results and variants in the relational database."""

    def __init__(self, database_url: str) -> None:
        self.sessions: sessionmaker[Session] = make_session_factory(make_engine(database_url))
        # Filled by claim and emptied by save_feedback, so storing a grade is one UPDATE.
        self._claimed: dict[int, _Scoring] = {}

    def claim(self, submission_id: int) -> GradingJob | None:
        try:
            with session_scope(self.sessions) as session:
                row = session.execute(_GRADING, {"submission_id": submission_id}).one_or_none()
                if row is None or row.status in FINAL:
                    return None
                session.execute(_MARK_GRADING, {"submission_id": submission_id, "now": utcnow()})
        except OperationalError as error:
            raise TransientError(str(error.orig)) from error
        if len(self._claimed) >= _MAX_CLAIMED:
            self._claimed.clear()
        self._claimed[submission_id] = _scoring(row)
        return GradingJob(submission_id, row.content, dict(row.answers))

    def save_feedback(self, submission_id: int, feedback: Feedback) -> bool:
        scoring = self._claimed.pop(submission_id, None)
        try:
            with session_scope(self.sessions) as session:
                if scoring is None:  # not claimed by this process: read the context now
                    row = session.execute(_GRADING, {"submission_id": submission_id})
                    found = row.one_or_none()
                    if found is None:
                        return False
                    scoring = _scoring(found)
                raw = scoring_rules.points_fraction(
                    feedback, scoring.content, scoring.points, scoring.part_points
                )
                final = scoring_rules.final_score(
                    raw, is_late=scoring.is_late, late_penalty=scoring.late_penalty
                )
                # Conditional update: of two workers racing on one submission, one stores.
                result = session.execute(
                    _STORE_GRADE,
                    {
                        "submission_id": submission_id,
                        "feedback": feedback.to_dict(),
                        "raw_score": raw,
                        "score": final,
                        "now": utcnow(),
                    },
                )
                stored = result.rowcount == 1
                if stored and scoring.from_lms:
                    # Same transaction as the grade: the LMS score send is never forgotten.
                    passback.after_graded(session, submission_id)
                return stored
        except OperationalError as error:
            raise TransientError(str(error.orig)) from error

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
        with session_scope(self.sessions) as session:
            return requeue_stuck(session, older_than_seconds)

    def pending_variant(self, user_id: int, item_id: int) -> tuple[str, int] | None:
        with session_scope(self.sessions) as session:
            return variants.pending(session, user_id, item_id)

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
