"""Fixtures for tests with real processes."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from tests.integration.stack import free_port


@pytest.fixture
def private_redis(tmp_path):
    """Our own real redis-server on a free port, so the test may stop and restart it."""
    binary = shutil.which("redis-server")
    if binary is None:
        from tests.conftest import service_missing

        service_missing("redis-server binary", FileNotFoundError("redis-server"))
    port = free_port()

    def start() -> subprocess.Popen:
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            if (
                subprocess.run(
                    ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True
                ).stdout.strip()
                == "PONG"
            ):
                return process
            time.sleep(0.05)
        raise AssertionError("private redis-server did not start")

    holder = {"process": start()}
    yield port, holder, start
    if holder["process"].poll() is None:
        holder["process"].terminate()
        holder["process"].wait()
