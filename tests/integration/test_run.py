"""`mixgrade run` (what `make run` starts): demo logins work, one at a time, Ctrl-C stops all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import requests

from tests.integration.stack import MIXGRADE, REPO, csrf_from, free_port, process_env


def _start_run(env: dict[str, str], port: int, log_path) -> subprocess.Popen:
    return subprocess.Popen(
        [*MIXGRADE, "run", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_up(url: str, process: subprocess.Popen, log_path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(log_path.read_text())


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def test_run_serves_demo_login_refuses_a_second_run_and_stops_cleanly(tmp_path):
    env = process_env(tmp_path)
    env.pop("SECRET_KEY")  # `make run` generates its own into instance/
    port = free_port()
    log_path = tmp_path / "run.log"
    process = _start_run(env, port, log_path)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_up(f"{base}/login", process, log_path)
        output = log_path.read_text()
        assert f"http://127.0.0.1:{port}/" in output
        logins = dict(re.findall(r"(student1@\S+)\s+password: (\S+)", output))
        assert logins, output

        session = requests.Session()
        token = csrf_from(session.get(f"{base}/login").text)
        email, password = next(iter(logins.items()))
        response = session.post(
            f"{base}/login", data={"email": email, "password": password, "csrf_token": token}
        )
        assert response.status_code == 200 and "Your courses" in response.text

        second = subprocess.run(
            [*MIXGRADE, "run", "--port", str(free_port())],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode != 0
        assert "already running" in second.stderr and "Traceback" not in second.stderr

        workers = _children(process.pid)
        queues = sorted(
            arg
            for pid in workers
            for arg in Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
            if arg.startswith("--queues=")
        )
        # Two pools: grading (small, fast start) and variant issue (loads statsmodels).
        assert queues == ["--queues=celery", "--queues=variants"], queues
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        assert process.wait(timeout=30) == 0, log_path.read_text()
        time.sleep(0.5)
        assert not [pid for pid in workers if os.path.exists(f"/proc/{pid}")]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)

    # A second start keeps the data: the same logins still work.
    process = _start_run(env, port, log_path)
    try:
        _wait_up(f"{base}/login", process, log_path)
        assert dict(re.findall(r"(student1@\S+)\s+password: (\S+)", log_path.read_text())) == logins
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
