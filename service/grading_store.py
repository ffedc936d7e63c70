"""The SQLAlchemy implementation of graders.tasks.GradingStore, bound in each worker."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select, update
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
from service.services import scoring, variants
from service.services.submissions import requeue_stuck

#: Statuses a worker must not touch again.
FINAL = (SubmissionStatus.graded, SubmissionStatus.failed)


class SqlGradingStore:
    """Claims, results and variants in the relational database."""

    def __init__(self, database_url: str) -> None:
        self.sessions: sessionmaker[Session] = make_session_factory(make_engine(database_url))

    def claim(self, submission_id: int) -> GradingJob | None:
        try:
            with session_scope(self.sessions) as session:
                row = session.execute(
                    select(Submission.status, Submission.answers, VariantRow.content)
                    .join(VariantRow, VariantRow.id == Submission.variant_id)
                    .where(Submission.id == submission_id)
                ).one_or_none()
                if row is None or row.status in FINAL:
                    return None
                session.execute(
                    update(Submission)
                    .where(Submission.id == submission_id, Submission.status.not_in(FINAL))
                    .values(status=SubmissionStatus.grading, started_at=utcnow())
                )
                return GradingJob(submission_id, row.content, dict(row.answers))
        except OperationalError as error:
            raise TransientError(str(error.orig)) from error

    def save_feedback(self, submission_id: int, feedback: Feedback) -> bool:
        try:
            with session_scope(self.sessions) as session:
                row = session.execute(
                    select(
                        Submission.is_late,
                        Assignment.late_penalty,
                        AssignmentProblem.points,
                        AssignmentProblem.part_points,
                        VariantRow.content,
                        exists().where(LtiIdentity.user_id == Submission.user_id).label("from_lms"),
                    )
                    .join(VariantRow, VariantRow.id == Submission.variant_id)
                    .outerjoin(
                        AssignmentProblem,
                        AssignmentProblem.id == VariantRow.assignment_problem_id,
                    )
                    .outerjoin(Assignment, Assignment.id == AssignmentProblem.assignment_id)
                    .where(Submission.id == submission_id)
                ).one_or_none()
                if row is None:
                    return False
                raw = scoring.points_fraction(feedback, row.content, row.points, row.part_points)
                final = scoring.final_score(raw, is_late=row.is_late, late_penalty=row.late_penalty)
                # Conditional update: of two workers racing on one submission, one stores.
                result = session.execute(
                    update(Submission)
                    .where(
                        Submission.id == submission_id,
                        Submission.status != SubmissionStatus.graded,
                    )
                    .values(
                        status=SubmissionStatus.graded,
                        feedback=feedback.to_dict(),
                        raw_score=raw,
                        score=final,
                        graded_at=utcnow(),
                        failure_reason=None,
                    )
                )
                stored = result.rowcount == 1
                if stored and row.from_lms:
                    # Same transaction as the grade: the LMS score send is never forgotten.
                    passback.after_graded(session, submission_id)
                return stored
        except OperationalError as error:
            raise TransientError(str(error.orig)) from error

    def fail(self, submission_id: int, reason: str) -> None:
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
