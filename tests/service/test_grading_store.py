"""The worker's storage: claims, idempotent results, failures, the stuck sweep, late penalty."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from graders.feedback import Feedback, PartFeedback
from graders.tasks import TransientError
from service.config import Settings
from service.grading_store import SqlGradingStore
from service.models import (
    Assignment,
    AssignmentProblem,
    Course,
    Problem,
    Role,
    StoredVariant,
    Submission,
    SubmissionStatus,
    User,
    utcnow,
)
from tests.conftest import settings_on


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path) -> Settings:
    """Every store test runs on the embedded SQLite and on the real PostgreSQL server."""
    return settings_on(request.param, request, tmp_path)


@pytest.fixture
def store(settings, app) -> SqlGradingStore:
    return SqlGradingStore(settings.database_url)


def _submission(db_session, *, is_late: bool = False, late_penalty: float = 0.25) -> Submission:
    user = User(email="s@x.edu", name="S", role=Role.student)
    course = Course(code="C1", title="C")
    problem = Problem(slug="p", version=1, title="P", spec_text="id: p")
    assignment = Assignment(course=course, title="A", late_penalty=late_penalty)
    item = AssignmentProblem(assignment=assignment, problem=problem, position=1)
    variant = StoredVariant(
        user=user, problem=problem, assignment_problem=item, seed=1, content={"k": 1}
    )
    submission = Submission(
        variant=variant, user=user, attempt_number=1, answers={"a": "1"}, is_late=is_late
    )
    db_session.add(submission)
    db_session.commit()
    return submission


def _feedback(score: float = 0.8) -> Feedback:
    return Feedback(score=score, parts=(PartFeedback("a", score, "partial", "close"),))


def test_claim_marks_grading_and_returns_the_stored_variant(store, db_session):
    submission = _submission(db_session)
    job = store.claim(submission.id)
    assert job.variant == {"k": 1} and job.answers == {"a": "1"}
    db_session.refresh(submission)
    assert submission.status == SubmissionStatus.grading and submission.started_at


def test_result_is_stored_once(store, db_session):
    submission = _submission(db_session)
    store.claim(submission.id)
    assert store.save_feedback(submission.id, _feedback(0.8)) is True
    assert store.save_feedback(submission.id, _feedback(0.1)) is False
    assert store.claim(submission.id) is None
    db_session.refresh(submission)
    assert submission.score == pytest.approx(0.8)
    assert submission.feedback["parts"][0]["message"] == "close"


def test_late_penalty_is_applied(store, db_session):
    submission = _submission(db_session, is_late=True, late_penalty=0.25)
    store.save_feedback(submission.id, _feedback(0.8))
    db_session.refresh(submission)
    assert (submission.raw_score, submission.score) == (pytest.approx(0.8), pytest.approx(0.6))


def test_points_per_part_decide_the_stored_score(store, db_session):
    submission = _submission(db_session, late_penalty=0.0)
    submission.variant.content = {"parts": [{"id": "a", "weight": 1.0}, {"id": "b", "weight": 1.0}]}
    submission.variant.assignment_problem.points = 10
    submission.variant.assignment_problem.part_points = {"a": 8.0}
    db_session.commit()
    feedback = Feedback(
        score=0.5,
        parts=(PartFeedback("a", 1.0, "correct", "ok"), PartFeedback("b", 0.0, "incorrect", "no")),
    )
    store.save_feedback(submission.id, feedback)
    db_session.refresh(submission)
    assert submission.score == pytest.approx(0.8)


def test_failure_keeps_the_reason_and_never_overrides_a_grade(store, db_session):
    first = _submission(db_session)
    store.fail(first.id, "ValueError: bad spec")
    db_session.refresh(first)
    assert first.status == SubmissionStatus.failed
    assert first.failure_reason == "ValueError: bad spec"

    db_session.add(
        second := Submission(variant=first.variant, user=first.user, attempt_number=2, answers={})
    )
    db_session.commit()
    store.save_feedback(second.id, _feedback(1.0))
    store.fail(second.id, "late duplicate crashed")
    db_session.refresh(second)
    assert second.status == SubmissionStatus.graded and second.failure_reason is None


def test_sweep_requeues_only_stuck_submissions(store, db_session):
    submission = _submission(db_session)
    assert store.stuck_submissions(60) == []
    submission.queued_at = utcnow() - timedelta(minutes=5)
    db_session.commit()
    assert store.stuck_submissions(60) == [submission.id]
    db_session.refresh(submission)
    assert submission.enqueue_count == 1 and submission.status == SubmissionStatus.queued
    assert store.stuck_submissions(60) == []

    store.claim(submission.id)
    db_session.refresh(submission)
    submission.started_at = utcnow() - timedelta(minutes=5)
    db_session.commit()
    assert store.stuck_submissions(60) == [submission.id]


def test_a_grade_saved_by_another_process_than_the_claim_is_scored_the_same(
    store, settings, db_session
):
    # claim keeps the scoring context for its own save_feedback; a different worker
    # process (a retry elsewhere) must read it from the database and score it the same.
    submission = _submission(db_session, is_late=True, late_penalty=0.25)
    assert store.claim(submission.id) is not None
    other = SqlGradingStore(settings.database_url)
    assert other.save_feedback(submission.id, _feedback(0.8)) is True
    assert store.save_feedback(submission.id, _feedback(0.8)) is False
    db_session.refresh(submission)
    assert (submission.raw_score, submission.score) == (pytest.approx(0.8), pytest.approx(0.6))
    assert submission.status == SubmissionStatus.graded


def test_a_variant_is_read_once_per_worker_process(store, db_session):
    # Variants never change once stored, so the worker keeps their (large) content.
    first = _submission(db_session)
    db_session.add(
        second := Submission(variant=first.variant, user=first.user, attempt_number=2, answers={})
    )
    db_session.commit()
    assert store.claim(first.id).variant == store.claim(second.id).variant == {"k": 1}
    assert store._variant_content.cache_info().misses == 1


def test_a_connection_dropped_by_the_server_is_a_transient_error_then_recovers(
    store, settings, db_session
):
    # The worker does not ping connections before use: a dead one must surface as a
    # TransientError (the task retries) and the next attempt must use a fresh connection.
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("only a server can drop a connection")
    submission = _submission(db_session)
    assert store.claim(submission.id) is not None
    db_session.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    )
    db_session.commit()
    with pytest.raises(TransientError):
        store.claim(submission.id)
    assert store.claim(submission.id) is not None
    assert store.save_feedback(submission.id, _feedback(1.0)) is True
