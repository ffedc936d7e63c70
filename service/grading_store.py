"""The SQLAlchemy implementation of graders.tasks.GradingStore, bound in each worker."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from graders.feedback import Feedback
from graders.tasks import GradingJob, TransientError
from service.db import make_engine, make_session_factory, session_scope
from service.models import Submission, SubmissionStatus, utcnow
from service.services import scoring, variants
from service.services.submissions import requeue_stuck


class SqlGradingStore:
    """Claims, results and variants in the relational database."""

    def __init__(self, database_url: str) -> None:
        self.sessions: sessionmaker[Session] = make_session_factory(make_engine(database_url))

    def claim(self, submission_id: int) -> GradingJob | None:
        try:
            with session_scope(self.sessions) as session:
                submission = session.get(Submission, submission_id)
                if submission is None or submission.status in (
                    SubmissionStatus.graded,
                    SubmissionStatus.failed,
                ):
                    return None
                submission.status = SubmissionStatus.grading
                submission.started_at = utcnow()
                return GradingJob(
                    submission_id=submission.id,
                    variant=submission.variant.content,
                    answers=dict(submission.answers),
                )
        except OperationalError as error:
            raise TransientError(str(error.orig)) from error

    def save_feedback(self, submission_id: int, feedback: Feedback) -> bool:
        try:
            with session_scope(self.sessions) as session:
                submission = session.get(Submission, submission_id)
                if submission is None:
                    return False
                raw, final = scoring.submission_scores(submission, feedback.score)
                # Conditional update: of two workers racing on one submission, one stores.
                result = session.execute(
                    update(Submission)
                    .where(
                        Submission.id == submission_id,
                        Submission.status.not_in([SubmissionStatus.graded]),
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
                return result.rowcount == 1
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
