"""End to end: HTTP (the production server) → PostgreSQL → Redis → 2 Celery workers → stored result.

Sends submissions at a fixed rate and reports submit-to-graded latency (from the stored
created_at and graded_at timestamps, so polling does not distort it), and checks that
nothing is lost. Then steps the rate up to find the highest one that keeps p99 <= 250 ms.

Needs the PostgreSQL and Redis servers on 127.0.0.1 (as in the tests). Run: `make bench`
or `.venv/bin/python benchmarks/bench_pipeline.py [--count 1000 --rate 50]`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import secrets
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import redis
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from service.db import make_engine, make_session_factory  # noqa: E402
from service.models import (  # noqa: E402
    Assignment,
    AssignmentProblem,
    Enrollment,
    Role,
    Submission,
    User,
)
from service.passwords import hash_password  # noqa: E402
from tests.integration.stack import (  # noqa: E402
    Stack,
    csrf_from,
    process_stats,
    student_session,
)

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
#: Sender threads, each with one persistent connection: enough that one is free when a
#: submission is due, so the server, not the load generator, sets the pace.
SENDERS = 16


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _fresh_database() -> tuple[str, str]:
    name = f"mixgrade_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop_database(name: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _enroll_students(
    session: Session, item_id: int, count: int, logins: dict[str, str]
) -> list[str]:
    """Add ``count`` students to the item's course (one password, hashed once); their emails."""
    course_id = session.scalar(
        select(Assignment.course_id)
        .join(AssignmentProblem, AssignmentProblem.assignment_id == Assignment.id)
        .where(AssignmentProblem.id == item_id)
    )
    password = secrets.token_urlsafe(9)
    password_hash = hash_password(password)
    emails = []
    for index in range(count):
        user = User(
            email=f"bench{index}@bench.mixgrade",
            name=f"Bench Student {index}",
            role=Role.student,
            password_hash=password_hash,
        )
        session.add(user)
        session.flush()
        session.add(Enrollment(user_id=user.id, course_id=course_id, role=Role.student))
        logins[user.email] = password
        emails.append(user.email)
    return emails


class Load:
    """Logged-in student sessions with their item, token and correct answers.

    Many students, as a class would be, each with their own variant: one student sending
    thousands of attempts would make the attempts count on the submit path (a count over
    the variant's submissions) grow through the run, which no real course does.
    """

    def __init__(self, stack: Stack, database_url: str, students: int) -> None:
        engine = make_engine(database_url)
        with make_session_factory(engine)() as session:
            session.execute(update(Assignment).values(attempts_allowed=1_000_000))
            item = session.scalar(select(AssignmentProblem.id).order_by(AssignmentProblem.id))
            emails = _enroll_students(session, item, students, stack.logins)
            session.commit()
        self.item = item
        from tests.integration.test_pipeline import _form, _reference_answers

        self.clients = []
        for email in emails:
            browser = student_session(stack, email)
            # Opening the problem page issues the student's variant and gives the token.
            token = csrf_from(browser.get(f"{stack.base_url}/items/{item}", timeout=60).text)
            answers, parts = _reference_answers(stack, item, email)
            self.clients.append((browser, _form(answers, parts, token)))
        self.engine = engine
        self.base_url = stack.base_url
        self.submit_path = f"/items/{item}/submit"
        # Each request is encoded once, up front: the generator should cost the server
        # machine as little CPU as possible.
        self.requests = [
            (
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/json",
                    "Cookie": "; ".join(f"{c.name}={c.value}" for c in browser.cookies),
                    # The login session is bound to the user agent (session protection).
                    "User-Agent": str(browser.headers["User-Agent"]),
                },
                urlencode(form).encode(),
            )
            for browser, form in self.clients
        ]
        self.client_delays: list[float] = []

    def send(self, count: int, rate: float) -> tuple[list[int], int]:
        """Send ``count`` submissions at ``rate`` per second; return ids and HTTP errors.

        Open loop: submission i is due at start + i / rate whatever the server does. A
        small pool of sender threads with persistent connections does the sending, so the
        load generator (on the same 2 cores) takes little CPU from what it measures. A
        sender that is still busy when its next submission is due sends it late; that
        delay is in ``self.client_delays`` (due time → response), reported as "http".
        """
        ids: list[int] = []
        delays: list[float] = []
        lock = threading.Lock()
        due: queue.SimpleQueue[tuple[int, float] | None] = queue.SimpleQueue()
        start = time.perf_counter() + 0.05
        for index in range(count):
            due.put((index, start + index / rate))
        senders = [
            threading.Thread(target=self._sender, args=(due, ids, delays, lock))
            for _ in range(SENDERS)
        ]
        for _ in senders:
            due.put(None)
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
        self.client_delays = delays
        return ids, count - len(ids)

    def _sender(self, due, ids, delays, lock) -> None:  # type: ignore[no-untyped-def]
        host, port = self.base_url.removeprefix("http://").split(":")
        connection: http.client.HTTPConnection | None = None
        last_used = 0.0
        while (job := due.get()) is not None:
            index, when = job
            wait = when - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            if connection is not None and time.perf_counter() - last_used > 1.0:
                connection.close()  # servers drop idle keep-alive connections after a while
                connection = None
            if connection is None:
                connection = http.client.HTTPConnection(host, int(port), timeout=30)
            headers, body = self.requests[index % len(self.requests)]
            try:
                connection.request("POST", self.submit_path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = None
                continue
            last_used = time.perf_counter()
            with lock:
                delays.append(last_used - when)
                if response.status == 202:
                    ids.append(json.loads(payload)["id"])

    def phases(self, ids: list[int]) -> tuple[list[float], list[float]]:
        """(stored → picked up by a worker, picked up → result stored) in seconds."""
        with make_session_factory(self.engine)() as session:
            rows = session.execute(
                select(Submission.created_at, Submission.started_at, Submission.graded_at).where(
                    Submission.id.in_(ids), Submission.graded_at.is_not(None)
                )
            ).all()
        waits = [(s - c).total_seconds() for c, s, _g in rows if s is not None]
        work = [(g - s).total_seconds() for _c, s, g in rows if s is not None]
        return waits, work

    def latencies(self, ids: list[int], timeout: float = 120) -> tuple[list[float], int]:
        """Seconds from stored to graded for each id; waits for stragglers, counts lost."""
        deadline = time.monotonic() + timeout
        with make_session_factory(self.engine)() as session:
            while time.monotonic() < deadline:
                pending = session.scalar(
                    select(func.count())
                    .select_from(Submission)
                    .where(Submission.id.in_(ids), Submission.graded_at.is_(None))
                )
                if pending == 0:
                    break
                time.sleep(0.5)
                session.expire_all()
            rows = session.execute(
                select(Submission.created_at, Submission.graded_at, Submission.status).where(
                    Submission.id.in_(ids)
                )
            ).all()
        done = [(g - c).total_seconds() for c, g, _s in rows if g is not None]
        stuck = Counter(status.value for _c, g, status in rows if g is None)
        if stuck:
            print(f"  not graded after {timeout:g} s, by status: {dict(stuck)}")
        return done, len(ids) - len(done)


class CpuMeter:
    """CPU seconds used by each part of the stack, read from /proc (Linux).

    What a submission costs in CPU decides the highest sustainable rate on a 2-core
    machine, so the benchmark reports it per part: the web server, the Celery workers,
    PostgreSQL, Redis and this load generator itself.
    """

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, stack: Stack) -> None:
        self.groups = {
            "web": {p.pid for p in stack.processes if p not in stack.workers},
            "workers": {p.pid for p in stack.workers},
        }

    def read(self) -> dict[str, float]:
        totals = dict.fromkeys(("web", "workers", "postgres", "redis"), 0.0)
        for _pid, name, fields in process_stats():
            seconds = (int(fields[11]) + int(fields[12])) / self.TICK
            process_group = int(fields[2])
            part = next((k for k, pids in self.groups.items() if process_group in pids), None)
            if part is None and name.startswith("postgres"):
                part = "postgres"
            elif part is None and name.startswith("redis-server"):
                part = "redis"
            if part is not None:
                totals[part] += seconds
        totals["load generator"] = time.process_time()
        return totals

    @staticmethod
    def report(before: dict[str, float], after: dict[str, float], submissions: int) -> str:
        parts = {k: 1000 * (after[k] - before[k]) / submissions for k in after}
        listed = ", ".join(f"{k} {ms:.1f}" for k, ms in parts.items())
        return f"CPU ms per submission: {listed}; total {sum(parts.values()):.1f}"


def _p50_p99(seconds: list[float]) -> str:
    ms = [x * 1000 for x in seconds]
    return f"p50={statistics.median(ms):.1f} ms p99={_percentile(ms, 0.99):.1f} ms"


def _report(
    label: str, latencies: list[float], lost: int, errors: int, seconds: float, http: list[float]
) -> None:
    ms = [x * 1000 for x in latencies]
    print(
        f"{label}: n={len(ms)} lost={lost} http_errors={errors} "
        f"p50={statistics.median(ms):.1f} ms p99={_percentile(ms, 0.99):.1f} ms "
        f"max={max(ms):.1f} ms achieved={len(ms) / seconds:.0f}/s"
    )
    if http:
        print(f"  http, due → response: {_p50_p99(http)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--ramp", default="150,200,250,275,300", help="rates to try, per second")
    parser.add_argument("--pool", default="solo", choices=["solo", "prefork", "threads"])
    parser.add_argument("--students", type=int, default=100, help="students submitting")
    parser.add_argument("--web-workers", type=int, default=2, help="web server processes")
    args = parser.parse_args()
    # `timeout` or Ctrl-C must still stop the stack: stray workers would keep consuming
    # the next run's messages from the same Redis database and grade them elsewhere.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    name, database_url = _fresh_database()
    redis.Redis.from_url("redis://127.0.0.1:6379/14").flushdb()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "MIXGRADE_INSTANCE": tmp,
            "SECRET_KEY": "bench",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14",
            "CELERY_RESULT_BACKEND": "redis://127.0.0.1:6379/14",
        }
        stack = Stack(env=env, log_dir=Path(tmp))
        try:
            stack.prepare()
            stack.start_production_web(args.web_workers)
            for index in (1, 2):
                stack.start_worker(
                    f"worker{index}", "--concurrency=1", f"--pool={args.pool}", "--loglevel=WARNING"
                )
            load = Load(stack, database_url, args.students)
            time.sleep(2)  # let both workers connect
            warm_ids, _ = load.send(100, 25)  # warm every web and worker process first
            load.latencies(warm_ids)

            meter = CpuMeter(stack)
            cpu_before = meter.read()
            started = time.perf_counter()
            ids, errors = load.send(args.count, args.rate)
            latencies, lost = load.latencies(ids)
            cpu_after = meter.read()
            _report(
                f"{args.count} at {args.rate:g}/s",
                latencies,
                lost + errors,
                errors,
                time.perf_counter() - started,
                load.client_delays,
            )
            waits, work = load.phases(ids)
            print(f"  of which stored → picked up: {_p50_p99(waits)}; worker: {_p50_p99(work)}")
            print(f"  {CpuMeter.report(cpu_before, cpu_after, len(ids))}")

            best = None
            for rate in [float(r) for r in args.ramp.split(",") if r]:
                cpu_before = meter.read()
                started = time.perf_counter()
                ids, errors = load.send(int(rate * 5), rate)
                latencies, lost = load.latencies(ids)
                cpu_after = meter.read()
                _report(
                    f"ramp {rate:g}/s for 5 s",
                    latencies,
                    lost,
                    errors,
                    time.perf_counter() - started,
                    load.client_delays,
                )
                print(f"  {CpuMeter.report(cpu_before, cpu_after, len(ids))}")
                # The rate counts only if the server kept up: submit-to-graded p99 within
                # budget, and the requests themselves answered on time (no hidden backlog).
                kept_up = _percentile(load.client_delays, 0.99) <= 0.25
                if (
                    latencies
                    and _percentile(latencies, 0.99) <= 0.25
                    and kept_up
                    and not lost
                    and not errors
                ):
                    best = rate
            print(f"highest tried rate with p99 <= 250 ms and nothing lost: {best}")
        finally:
            stack.stop()
            _drop_database(name)


if __name__ == "__main__":
    main()
