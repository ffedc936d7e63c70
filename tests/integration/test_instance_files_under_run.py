"""`mixgrade run` started from a shell with the usual 022 umask: after a submission is
graded, every file under instance/ (web, worker, beat, broker, results) is 0600 in 0700."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import requests
from sqlalchemy import select

from service.db import make_engine, make_session_factory
from service.models import AssignmentProblem, StoredVariant, User
from tests.integration.stack import (
    MIXGRADE,
    REPO,
    csrf_from,
    free_port,
    process_env,
    wait_for_status,
)
from tests.service.test_instance_files import assert_private


def _first_item_and_right_answers(database_url: str, email: str) -> tuple[int, list]:
    """The demo's first item and the (field, value) pairs of the student's right answers;
    call it after the student has opened the item, which issues their variant."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            item_id = session.scalar(select(AssignmentProblem.id).order_by(AssignmentProblem.id))
            content = session.scalar(
                select(StoredVariant.content)
                .join(User, User.id == StoredVariant.user_id)
                .where(User.email == email, StoredVariant.assignment_problem_id == item_id)
            )
    finally:
        engine.dispose()
    fields: list = []
    for part in content["parts"] if content else []:
        values = part["answer"] if isinstance(part["answer"], list) else [part["answer"]]
        fields += [(f"part-{part['id']}", str(v)) for v in values]
    return item_id, fields


def test_everything_run_writes_under_instance_is_private(tmp_path):
    env = process_env(tmp_path)
    env.pop("SECRET_KEY")  # generated into instance/secret_key, as `make run` does
    instance = tmp_path / "instance"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "run.log"
    process = subprocess.Popen(
        [*MIXGRADE, "run", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: os.umask(0o022),
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, log.read_text()
            try:
                requests.get(f"{base}/login", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        email, password = re.findall(r"(student1@\S+)\s+password: (\S+)", log.read_text())[0]
        browser = requests.Session()
        token = csrf_from(browser.get(f"{base}/login", timeout=10).text)
        browser.post(
            f"{base}/login",
            data={"email": email, "password": password, "csrf_token": token},
            timeout=10,
        )
        first = browser.get(f"{base}/", timeout=10)
        assert "Your courses" in first.text
        database_url = f"sqlite:///{instance / 'mixgrade.sqlite'}"
        item_id, _ = _first_item_and_right_answers(database_url, email)
        page = browser.get(f"{base}/items/{item_id}", timeout=30)
        _, answers = _first_item_and_right_answers(database_url, email)
        form = [("csrf_token", csrf_from(page.text)), *answers]
        sent = browser.post(
            f"{base}/items/{item_id}/submit",
            data=form,
            headers={"Accept": "application/json"},
            timeout=30,
        )
        assert sent.status_code == 202, sent.text
        graded = wait_for_status(browser, base + sent.json()["status_url"], {"graded", "failed"})
        assert graded["status"] == "graded", log.read_text()
        assert_private(
            instance,
            {"mixgrade.sqlite", "mixgrade.sqlite-wal", "mixgrade.sqlite-shm", "broker.sqlite",
             "celery-results.sqlite", "secret_key", "demo-logins.txt", "run.lock"},
        )  # fmt: skip
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=30)
    assert_private(instance, {"mixgrade.sqlite", "secret_key", "demo-logins.txt"})
