"""Storing a submission: every field, committed before it is queued, attempts counted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service import queue
from service.config import Settings
from service.db import make_engine, make_session_factory
from service.models import StoredVariant, Submission, SubmissionStatus, utcnow
from service.services import submissions, timing
from tests.conftest import settings_on
from tests.service.web_world import World, build_world


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path) -> Settings:
    """The insert is plain Core SQL, so it runs on the embedded SQLite and on PostgreSQL."""
    return settings_on(request.param, request, tmp_path)


@pytest.fixture
def world(db_session) -> World:
    return build_world(db_session)


@pytest.fixture
def variant(db_session, world) -> StoredVariant:
    row = StoredVariant(
        user=world.users["alice"],
        problem=world.problem,
        assignment_problem=world.item,
        seed=1,
        content={"parts": []},
    )
    db_session.add(row)
    db_session.commit()
    return row


@pytest.fixture
def sent(monkeypatch, settings) -> Iterator[list[tuple[int, Submission | None]]]:
    """Each id handed to the queue, with its row as another connection saw it right then."""
    engine = make_engine(settings.database_url)
    seen: list[tuple[int, Submission | None]] = []

    def send_grading(submission_id: int) -> bool:
        with make_session_factory(engine)() as other:
            seen.append((submission_id, other.get(Submission, submission_id)))
        return True

    monkeypatch.setattr(queue, "send_grading", send_grading)
    yield seen
    engine.dispose()


def test_a_submission_is_stored_queued_and_committed_before_it_is_sent(
    db_session, world, variant, sent
):
    before = utcnow()
    answers = {"intercept": "1.5", "slope": None, "which": ["a", "b"]}
    submission, queued = submissions.create(
        db_session,
        world.users["alice"],
        variant,
        answers,
        attempts_allowed=3,
        is_late=True,
        idempotency_key="tab-1",
    )
    assert queued is True
    assert submission.status is SubmissionStatus.queued
    [(sent_id, row)] = sent
    assert sent_id == submission.id and row is not None  # a worker would find it
    assert (row.variant_id, row.user_id, row.attempt_number) == (
        variant.id,
        world.users["alice"].id,
        1,
    )
    assert row.answers == answers and row.status is SubmissionStatus.queued
    assert row.is_late is True and row.idempotency_key == "tab-1" and row.enqueue_count == 1
    assert row.raw_score is None and row.feedback is None and row.started_at is None
    for moment in (row.created_at, row.queued_at):
        assert abs(timing.as_utc(moment) - before) < timedelta(minutes=1)


def test_attempts_are_numbered_and_refused_once_used_up(db_session, world, variant, sent):
    alice = world.users["alice"]
    for expected in (1, 2):
        submission, _ = submissions.create(
            db_session, alice, variant, {"intercept": "1"}, attempts_allowed=2
        )
        assert db_session.get(Submission, submission.id).attempt_number == expected
    with pytest.raises(submissions.AttemptsExhausted):
        submissions.create(db_session, alice, variant, {"intercept": "1"}, attempts_allowed=2)
    db_session.rollback()
    count = select(func.count()).select_from(Submission).where(Submission.variant_id == variant.id)
    assert db_session.scalar(count) == 2 and len(sent) == 2


def test_a_repeated_idempotency_key_returns_the_stored_submission(db_session, world, variant, sent):
    alice = world.users["alice"]
    first, _ = submissions.create(
        db_session, alice, variant, {"intercept": "1"}, attempts_allowed=3, idempotency_key="k"
    )
    again, queued = submissions.create(
        db_session, alice, variant, {"intercept": "1"}, attempts_allowed=3, idempotency_key="k"
    )
    assert again.id == first.id and queued is True
    assert [submission_id for submission_id, _ in sent] == [first.id]
