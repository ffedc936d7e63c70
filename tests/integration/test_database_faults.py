"""The database drops every connection again and again while students submit.

Real processes: the production web server (granian) on PostgreSQL + Redis, submits over
HTTP from several threads, and an admin connection that terminates every backend of the
database many times a second. Each reply must be true: a 202 for a stored submission, or
a 503 with Retry-After that says the answers were not saved (and then nothing is stored).
Never a 500.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import psycopg
import requests
from sqlalchemy import select
from sqlalchemy.engine import make_url

from service.models import Submission
from tests.integration.test_pipeline import _form, _reference_answers, first_item_id
from tests.integration.test_submit_races import _open, web_stack

THREADS = 4
SUBMITS_PER_THREAD = 25


def test_dropped_connections_during_submits_give_202_or_an_honest_503(
    tmp_path, postgres_url, redis_url
):
    overrides = {
        "DATABASE_URL": postgres_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
    }
    stack = web_stack(tmp_path, overrides, attempts=1000)
    try:
        item = first_item_id(stack)
        browser, token = _open(stack, item)
        answers, parts = _reference_answers(stack, item)
        replies: list[requests.Response] = []
        done = threading.Event()

        def student() -> None:
            session = requests.Session()
            session.cookies.update(browser.cookies)
            for _ in range(SUBMITS_PER_THREAD):
                replies.append(
                    session.post(
                        f"{stack.base_url}/items/{item}/submit",
                        data=_form(answers, parts, token),
                        headers={"Accept": "application/json"},
                        timeout=60,
                    )
                )

        database = make_url(postgres_url).database
        admin_url = make_url(postgres_url).set(drivername="postgresql", database="postgres")
        kills = 0

        def terminator() -> None:
            nonlocal kills
            with psycopg.connect(
                admin_url.render_as_string(hide_password=False), autocommit=True
            ) as admin:
                while not done.is_set():
                    kills += admin.execute(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()",
                        (database,),
                    ).fetchone()[0]
                    time.sleep(0.05)

        killer = threading.Thread(target=terminator)
        students = [threading.Thread(target=student) for _ in range(THREADS)]
        killer.start()
        for thread in students:
            thread.start()
        for thread in students:
            thread.join()
        done.set()
        killer.join()

        statuses = Counter(r.status_code for r in replies)
        assert set(statuses) <= {202, 503}, (statuses, [r.text for r in replies])
        assert kills > 0 and statuses[202] > 0, (kills, statuses)
        unconfirmed = 0
        for reply in replies:
            if reply.status_code == 503:
                assert reply.headers["Retry-After"].isdigit()
                detail = reply.json()["detail"]
                assert "NOT saved" in detail or "could not be confirmed" in detail, detail
                unconfirmed += "could not be confirmed" in detail
        accepted = {r.json()["id"] for r in replies if r.status_code == 202}
        with stack.session() as session:
            stored = set(session.scalars(select(Submission.id)))
        assert accepted <= stored  # every 202 names a stored row
        # A 503 that says NOT saved stored nothing; only an unconfirmed COMMIT may have.
        assert len(stored - accepted) <= unconfirmed, (statuses, unconfirmed)
    finally:
        stack.stop()
