"""Worker faults with real processes: a killed worker (a broker outage: test_broker_outage)."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from service.models import Submission, SubmissionStatus
from tests.integration.stack import (
    Stack,
    csrf_from,
    process_env,
    student_session,
    wait_for_status,
)
from tests.integration.test_pipeline import STUDENT, _form, _reference_answers, first_item_id

GRADED_LINE = re.compile(r"succeeded in [\d.e-]+s: 'graded'")


def _stack(tmp_path, database_url: str, broker_url: str, stuck_after: float = 4) -> Stack:
    env = process_env(
        tmp_path,
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        CELERY_RESULT_BACKEND=broker_url,
        MIXGRADE_STUCK_AFTER=str(stuck_after),
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
