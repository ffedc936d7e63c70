"""Worker faults with real processes: a killed worker and a broker that goes away."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
from sqlalchemy import func, select, update

from service.models import Assignment, Submission, SubmissionStatus
from tests.integration.stack import (
    Stack,
    csrf_from,
    process_env,
    student_session,
    wait_for_status,
)
from tests.integration.test_pipeline import STUDENT, _form, _reference_answers, first_item_id

GRADED_LINE = re.compile(r"succeeded in [\d.e-]+s: 'graded'")


def _stack(tmp_path, database_url: str, broker_url: str) -> Stack:
    env = process_env(
        tmp_path,
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        CELERY_RESULT_BACKEND=broker_url,
        MIXGRADE_STUCK_AFTER="4",
    )
    stack = Stack(env=env, log_dir=tmp_path)
    stack.prepare()
    return stack


def _open_first_item(stack: Stack):
    browser = student_session(stack, STUDENT)
    item = first_item_id(stack)
    token = csrf_from(browser.get(f"{stack.base_url}/items/{item}", timeout=30).text)
    answers, parts = _reference_answers(stack, int(item))
    return browser, int(item), token, answers, parts


def _submit(stack: Stack, browser, item: int, token: str, answers, parts) -> dict:
    response = browser.post(
        f"{stack.base_url}/items/{item}/submit",
        data=_form(answers, parts, token),
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    return response.json()


def _status(stack: Stack, submission_id: int) -> SubmissionStatus:
    with stack.session() as session:
        return session.get(Submission, submission_id).status


def test_worker_killed_mid_grading_still_grades_once(tmp_path, postgres_url, redis_url):
    stack = _stack(tmp_path, postgres_url, redis_url)
    try:
        stack.start_web()
        doomed = stack.start_worker("doomed", "--concurrency=1", MIXGRADE_FAULT_GRADE_DELAY="30")
        browser, item, token, answers, parts = _open_first_item(stack)
        submitted = _submit(stack, browser, item, token, answers, parts)
        deadline = time.monotonic() + 60
        while _status(stack, submitted["id"]) != SubmissionStatus.grading:
            assert time.monotonic() < deadline, stack.log("doomed")
            time.sleep(0.1)
        os.killpg(doomed.pid, signal.SIGKILL)  # the worker and its pool, mid-task
        doomed.wait()

        stack.start_worker("rescuer", "--concurrency=1", "--beat")
        result = wait_for_status(
            browser, stack.base_url + submitted["status_url"], {"graded", "failed"}, timeout=90
        )
        assert result["status"] == "graded", stack.log("rescuer")
        assert result["score"] == pytest.approx(1.0)
        graded_runs = len(GRADED_LINE.findall(stack.log("doomed") + stack.log("rescuer")))
        assert graded_runs == 1, "the submission must be graded exactly once"
    finally:
        stack.stop()


def test_broker_down_loses_nothing(tmp_path, postgres_url, private_redis):
    port, holder, start = private_redis
    stack = _stack(tmp_path, postgres_url, f"redis://127.0.0.1:{port}/0")
    try:
        with stack.session() as session:  # four submissions here; the demo allows three
            session.execute(update(Assignment).values(attempts_allowed=10))
            session.commit()
        stack.start_web()
        stack.start_worker("worker", "--concurrency=1", "--beat")
        browser, item, token, answers, parts = _open_first_item(stack)
        first = _submit(stack, browser, item, token, answers, parts)
        wait_for_status(browser, stack.base_url + first["status_url"], {"graded"})

        holder["process"].kill()
        holder["process"].wait()
        started = time.monotonic()
        during = [_submit(stack, browser, item, token, answers, parts) for _ in range(2)]
        # Refused at once: no request waits out kombu's connection retries.
        assert time.monotonic() - started < 4
        assert all(body["queued"] is False for body in during)
        assert all(_status(stack, b["id"]) == SubmissionStatus.queued for b in during)

        holder["process"] = start()
        after = _submit(stack, browser, item, token, answers, parts)
        assert after["queued"] is True, "the web server publishes again once the broker is back"
        for body in [*during, after]:
            result = wait_for_status(
                browser, stack.base_url + body["status_url"], {"graded"}, timeout=90
            )
            assert result["score"] == pytest.approx(1.0)
        with stack.session() as session:
            total = session.scalar(select(func.count()).select_from(Submission))
        assert total == 4
    finally:
        stack.stop()
