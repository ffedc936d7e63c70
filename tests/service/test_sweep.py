"""Sending again what never reached a worker: conditional re-queues and unpublished rows.

Every test runs on the embedded SQLite and on the real PostgreSQL server: the statements
are plain Core SQL whose conditions must hold on both.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Connection, select, text, update

import graders.tasks as tasks
from graders.celery_app import celery_app
from graders.tasks import bind_store
from service import queue
from service.config import Settings
from service.db import make_engine, make_session_factory
from service.grading_store import SqlGradingStore
from service.models import Submission, SubmissionStatus, utcnow
from service.services import sweep
from tests.integration.stack import free_port, mixgrade, process_env
from tests.service import test_grading_store as grading_store_tests
from tests.service.test_grading_store import _feedback, _submission

# The store's fixtures: every test here runs on SQLite and on PostgreSQL.
settings = grading_store_tests.settings
store = grading_store_tests.store


@pytest.fixture
def connection(settings, app) -> Iterator[Connection]:
    """Another process's connection, autocommitted as the worker store's is."""
    engine = make_engine(settings.database_url, autocommit=True)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


@pytest.fixture
def dead_broker(settings) -> Iterator[None]:
    """The queue configured as a web process's, on a broker that refuses connections."""
    queue.configure(
        replace(settings, broker_url=f"redis://127.0.0.1:{free_port()}/0"), in_requests=True
    )
    yield
    queue.configure(settings)


def _stored(db_session, count: int) -> list[Submission]:
    """``count`` queued submissions of one variant, each counted as sent once."""
    first = _submission(db_session)
    rows = [first] + [
        Submission(variant=first.variant, user=first.user, attempt_number=n, answers={})
        for n in range(2, count + 1)
    ]
    for row in rows:
        row.enqueue_count = 1
    db_session.add_all(rows)
    db_session.commit()
    return rows


def _row(db_session, submission: Submission) -> Submission:
    db_session.expire_all()
    return db_session.get(Submission, submission.id)


def _age(db_session, submission: Submission, **columns_minutes_ago: int) -> None:
    values = {c: utcnow() - timedelta(minutes=m) for c, m in columns_minutes_ago.items()}
    db_session.execute(update(Submission).where(Submission.id == submission.id).values(**values))
    db_session.commit()


# --- the stuck sweep re-queues only what is still as it read it ---------------------------


@pytest.mark.parametrize("read_status", [SubmissionStatus.queued, SubmissionStatus.grading])
def test_a_grade_stored_between_the_sweeps_read_and_its_update_is_kept(
    store, connection, db_session, read_status
):
    [submission] = _stored(db_session, 1)
    if read_status == SubmissionStatus.grading:
        store.claim(submission.id)
        _age(db_session, submission, started_at=5)
    else:
        _age(db_session, submission, queued_at=5)
    [stuck] = sweep.find_stuck(connection, 60)
    assert (stuck.id, stuck.status) == (submission.id, read_status)

    # A worker (another process) stores the grade after the sweep read the row.
    store.claim(submission.id)
    assert store.save_feedback(submission.id, _feedback(0.8)) is True

    assert sweep.requeue(connection, [stuck]) == []
    row = _row(db_session, submission)
    assert row.status == SubmissionStatus.graded and row.score == pytest.approx(0.8)
    assert row.enqueue_count == 1, "never re-sent, so never graded twice"


def test_a_row_claimed_again_since_it_was_read_is_not_requeued(store, connection, db_session):
    # Two sweeps read the same stuck row; the first re-queues it and a worker claims it
    # again: the second sweep's stale read must not take it from that worker.
    [submission] = _stored(db_session, 1)
    store.claim(submission.id)
    _age(db_session, submission, started_at=5)
    first_read = sweep.find_stuck(connection, 60)
    second_read = sweep.find_stuck(connection, 60)
    assert sweep.requeue(connection, first_read) == [submission.id]
    store.claim(submission.id)
    assert sweep.requeue(connection, second_read) == []
    row = _row(db_session, submission)
    assert row.status == SubmissionStatus.grading and row.enqueue_count == 2


def test_the_store_sweep_requeues_each_stuck_row_once(store, db_session):
    rows = _stored(db_session, 3)
    _age(db_session, rows[0], queued_at=5)
    store.claim(rows[1].id)
    _age(db_session, rows[1], started_at=5)
    assert store.stuck_submissions(60) == [rows[0].id, rows[1].id]
    assert store.stuck_submissions(60) == []
    assert [_row(db_session, r).enqueue_count for r in rows] == [2, 2, 1]


# --- unpublished: marked when the broker refuses, sent once when it is back ----------------


def test_a_send_the_broker_refuses_marks_the_row_and_one_claim_takes_it(
    store, db_session, dead_broker
):
    [submission] = _stored(db_session, 1)
    assert queue.send_grading(submission.id) is False
    row = _row(db_session, submission)
    assert row.unpublished_at is not None and row.enqueue_count == 0, "counted as not sent"
    assert row.status == SubmissionStatus.queued

    assert store.unpublished_submissions() == [submission.id]
    assert store.unpublished_submissions() == []
    row = _row(db_session, submission)
    assert row.unpublished_at is None and row.enqueue_count == 1


def test_concurrent_claims_take_each_unpublished_row_exactly_once(
    settings, store, db_session, connection
):
    rows = _stored(db_session, 120)
    sweep.mark_unpublished(connection, [r.id for r in rows])
    claimed: list[list[int]] = []
    start = threading.Barrier(4)

    def claim() -> None:
        other = SqlGradingStore(settings.database_url)
        start.wait()
        claimed.append(other.unpublished_submissions())

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for ids in claimed for i in ids]
    assert sorted(every) == [r.id for r in rows], "each row claimed by exactly one process"
    assert {_row(db_session, r).enqueue_count for r in rows} == {1}


def test_a_row_graded_while_marked_loses_its_mark_without_a_send(store, db_session, connection):
    # A duplicate message (say, a send that timed out after the broker took it) got the
    # row graded: the mark is stale, is cleared, and nothing is sent again.
    [submission] = _stored(db_session, 1)
    sweep.mark_unpublished(connection, [submission.id])
    store.claim(submission.id)
    store.save_feedback(submission.id, _feedback(1.0))
    assert store.unpublished_submissions() == []
    row = _row(db_session, submission)
    assert row.unpublished_at is None and row.status == SubmissionStatus.graded
    assert row.enqueue_count == 0


def test_the_stuck_sweep_takes_an_unpublished_row_from_the_sender(store, db_session, connection):
    # Where no beat runs the sender, the stuck sweep still sends a marked row, once.
    [submission] = _stored(db_session, 1)
    sweep.mark_unpublished(connection, [submission.id])
    _age(db_session, submission, queued_at=5)
    assert store.stuck_submissions(60) == [submission.id]
    assert store.unpublished_submissions() == []
    assert _row(db_session, submission).enqueue_count == 1


def test_a_broker_lost_again_midway_leaves_the_rest_marked(
    settings, store, db_session, connection, dead_broker
):
    rows = _stored(db_session, 3)
    sweep.mark_unpublished(connection, [r.id for r in rows])
    bind_store(lambda: SqlGradingStore(settings.database_url))
    try:
        with pytest.raises(Exception):  # noqa: B017 - kombu's error depends on the transport
            tasks.send_unpublished()
    finally:
        bind_store(None)
    for row in rows:
        row = _row(db_session, row)
        assert row.unpublished_at is not None and row.enqueue_count == 0
    assert store.unpublished_submissions() == [r.id for r in rows]


def test_finding_unpublished_rows_is_one_lookup_in_the_partial_index(connection, settings):
    """Run every 2 s by every beat: it must not scan the submissions table."""
    subquery = select(Submission.id).where(Submission.unpublished_at.is_not(None)).limit(500)
    sql = str(subquery.compile(connection, compile_kwargs={"literal_binds": True}))
    if settings.database_url.startswith("sqlite"):
        plan = " ".join(str(r) for r in connection.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    else:
        connection.execute(text("SET enable_seqscan = off"))  # an empty table would scan
        plan = " ".join(r[0] for r in connection.execute(text(f"EXPLAIN {sql}")))
    assert "ix_submissions_unpublished" in plan, plan


# --- the broker's return is noticed within seconds -----------------------------------------


def test_workers_and_beat_try_a_lost_broker_again_every_few_seconds(tmp_path):
    """Celery's consumer and beat reconnect with kombu's pauses (2, 4 … 30 s) unless told."""
    settings = Settings.from_env({"MIXGRADE_INSTANCE": str(tmp_path), "SECRET_KEY": "test"})
    queue.configure(replace(settings, broker_url=f"redis://127.0.0.1:{free_port()}/0"))
    try:
        pauses: list[float] = []
        connection = celery_app.connection_for_read()  # what the consumer uses
        with pytest.raises(Exception):  # noqa: B017 - kombu's error depends on the transport
            connection.ensure_connection(lambda _error, pause: pauses.append(pause), 3)
        assert pauses == [0.5, 1.0, 1.5], "kombu's own would be 2, 4, 6"
    finally:
        queue.configure(settings)


# --- where no beat runs: `mixgrade sweep` from cron --------------------------------------


def test_the_sweep_command_sends_unpublished_and_stuck_submissions(tmp_path):
    env = process_env(tmp_path)  # the embedded default: SQLite and the SQLite broker
    assert mixgrade(env, "db", "upgrade").returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'instance' / 'mixgrade.sqlite'}")
    try:
        with make_session_factory(engine)() as session:
            unpublished, stuck, fresh = _stored(session, 3)
            with engine.connect() as connection:
                sweep.mark_unpublished(connection, [unpublished.id])
                connection.commit()
            _age(session, stuck, queued_at=5)

            result = mixgrade(env, "sweep")
            assert result.returncode == 0, result.stderr
            assert "sent 1 of 1 unpublished" in result.stdout
            assert "re-queued 1 of 1 stuck" in result.stdout
            rows = [_row(session, r) for r in (unpublished, stuck, fresh)]
            assert [r.enqueue_count for r in rows] == [1, 2, 1]
            assert all(r.unpublished_at is None for r in rows)
    finally:
        engine.dispose()
