"""A submission over HTTP → stored → queued → graded by a separate worker process → read back.

Runs on the embedded default (SQLite + kombu SQLAlchemy transport) and on the real
PostgreSQL + Redis servers. No eager mode: the worker is its own process.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import requests
from sqlalchemy import func, select

from service.models import AssignmentProblem, StoredVariant, Submission, User
from tests.integration.stack import (
    Stack,
    csrf_from,
    process_env,
    process_stats,
    student_session,
    wait_for_status,
)

STUDENT = "student1@demo.mixgrade"
JSON = {"Accept": "application/json"}


@pytest.fixture(params=["embedded", "postgres_redis"])
def stack(request, tmp_path):
    env = process_env(tmp_path)
    if request.param == "postgres_redis":
        redis_url = request.getfixturevalue("redis_url")
        env = process_env(
            tmp_path,
            DATABASE_URL=request.getfixturevalue("postgres_url"),
            CELERY_BROKER_URL=redis_url,
            CELERY_RESULT_BACKEND=redis_url,
        )
    running = Stack(env=env, log_dir=tmp_path)
    running.prepare()
    try:
        yield running
    finally:
        running.stop()


def first_item_id(stack: Stack) -> int:
    """The demo assignment's first problem (found in the database, not by scraping pages)."""
    with stack.session() as session:
        return session.scalar(select(AssignmentProblem.id).order_by(AssignmentProblem.id).limit(1))


def _stored_variant(stack: Stack, item_id: int, email: str = STUDENT) -> StoredVariant:
    """The student's stored variant of the item."""
    with stack.session() as session:
        return session.scalar(
            select(StoredVariant)
            .join(User, User.id == StoredVariant.user_id)
            .where(User.email == email, StoredVariant.assignment_problem_id == item_id)
        )


def _reference_answers(stack: Stack, item_id: int, email: str = STUDENT) -> tuple[dict, list[dict]]:
    """The correct answers and the parts of the student's stored variant of the item."""
    parts = _stored_variant(stack, item_id, email).content["parts"]
    return {p["id"]: p["answer"] for p in parts}, parts


def _stored_submission(stack: Stack, submission_id: int) -> Submission | None:
    with stack.session() as session:
        return session.get(Submission, submission_id)


def _form(answers: dict, parts: list[dict], token: str) -> list[tuple[str, str]]:
    form = [("csrf_token", token)]
    for part in parts:
        value = answers[part["id"]]
        values = value if isinstance(value, list) else [value]
        form += [(f"part-{part['id']}", str(v)) for v in values]
    return form


def test_submission_is_stored_queued_graded_and_read_back(stack: Stack):
    stack.start_worker("worker", "--concurrency=1")
    stack.start_web()
    browser = student_session(stack, STUDENT)

    item_id = first_item_id(stack)
    problem_page = browser.get(f"{stack.base_url}/items/{item_id}", timeout=30).text
    token = csrf_from(problem_page)
    answers, parts = _reference_answers(stack, item_id)

    response = browser.post(
        f"{stack.base_url}/items/{item_id}/submit",
        data=_form(answers, parts, token),
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["queued"] is True
    stored = _stored_submission(stack, body["id"])
    assert stored is not None and stored.answers, "the submission must be stored when accepted"

    result = wait_for_status(browser, stack.base_url + body["status_url"], {"graded", "failed"})
    assert result["status"] == "graded", (result, stack.log("worker"))
    assert result["score"] == pytest.approx(1.0)
    assert all(p["verdict"] == "correct" for p in result["feedback"]["parts"])

    numeric = next(p for p in parts if p["kind"] == "numeric")
    wrong = dict(answers)
    wrong[numeric["id"]] = float(numeric["answer"]) * 3 + 17
    response = browser.post(
        f"{stack.base_url}/items/{item_id}/submit",
        data=_form(wrong, parts, token),
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 202
    result = wait_for_status(browser, stack.base_url + response.json()["status_url"], {"graded"})
    verdicts = {p["id"]: p["verdict"] for p in result["feedback"]["parts"]}
    assert verdicts[numeric["id"]] == "incorrect"
    assert result["score"] < 1.0


def test_unreadable_answer_is_refused_without_using_an_attempt(stack: Stack):
    stack.start_web()
    browser = student_session(stack, STUDENT)
    item_id = first_item_id(stack)
    token = csrf_from(browser.get(f"{stack.base_url}/items/{item_id}", timeout=30).text)
    _answers, parts = _reference_answers(stack, item_id)
    numeric = next(p for p in parts if p["kind"] == "numeric")
    response = browser.post(
        f"{stack.base_url}/items/{item_id}/submit",
        data=[("csrf_token", token), (f"part-{numeric['id']}", "about a half")],
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 422
    assert numeric["id"] in response.json()["errors"]
    with stack.session() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 0


@pytest.mark.parametrize("stack", ["postgres_redis"], indirect=True)
def test_production_web_server_serves_the_submit_path(stack: Stack):
    """docker-compose.yml's web command (granian) serves logins, submissions and refusals."""
    stack.start_worker("worker", "--concurrency=1")
    stack.start_production_web(workers=2)
    browser = student_session(stack, STUDENT)
    item_id = first_item_id(stack)
    token = csrf_from(browser.get(f"{stack.base_url}/items/{item_id}", timeout=30).text)
    answers, parts = _reference_answers(stack, item_id)
    submit_url = f"{stack.base_url}/items/{item_id}/submit"

    response = browser.post(submit_url, data=_form(answers, parts, token), headers=JSON, timeout=30)
    assert response.status_code == 202, response.text
    result = wait_for_status(browser, stack.base_url + response.json()["status_url"], {"graded"})
    assert result["score"] == pytest.approx(1.0)

    no_token = [pair for pair in _form(answers, parts, token) if pair[0] != "csrf_token"]
    refused = browser.post(submit_url, data=no_token, headers=JSON, timeout=30)
    assert refused.status_code == 400 and "not sent from this site" in refused.json()["detail"]
    oversized = browser.post(submit_url, data={"x": "1" * 400_000}, headers=JSON, timeout=30)
    assert oversized.status_code == 413

    variant_id = _stored_variant(stack, item_id).id
    plot = browser.get(f"{stack.base_url}/variants/{variant_id}/plot.png", timeout=60)
    assert plot.status_code == 200 and plot.content.startswith(b"\x89PNG")
    data = browser.get(f"{stack.base_url}/variants/{variant_id}/files/data.csv", timeout=30)
    assert data.status_code == 200 and data.headers["Content-Type"].startswith("text/csv")
    assert len(data.text.splitlines()) > 2
    with stack.session() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 1


@pytest.mark.parametrize("stack", ["postgres_redis"], indirect=True)
def test_production_web_server_replaces_a_killed_process(stack: Stack):
    """A web process that dies (OOM killer, a crash in C code) is replaced; serving goes on."""
    stack.start_production_web(workers=2)
    server = stack.processes[-1]
    workers = _children(server.pid)
    assert len(workers) == 2, workers
    os.kill(workers[0], signal.SIGKILL)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        replaced = _children(server.pid)
        if len(replaced) == 2 and workers[0] not in replaced:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"the killed web process was not replaced: {stack.log('web')}")
    assert server.poll() is None
    # A new process is in the table before it has loaded the app and taken the socket;
    # under load (CI) the first connection can be refused meanwhile. Wait for it to serve,
    # then every request must be answered, whichever process takes it.
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{stack.base_url}/login", timeout=10)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    for _ in range(10):
        assert requests.get(f"{stack.base_url}/login", timeout=10).status_code == 200


def _children(pid: int) -> list[int]:
    """The live child processes of ``pid``."""
    return sorted(
        child
        for child, _name, fields in process_stats()
        if int(fields[1]) == pid and fields[0] != "Z"
    )
