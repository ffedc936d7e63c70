"""The `mixgrade` command: clear one-line errors for bad configuration, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.integration.stack import REPO


def _mixgrade(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "MIXGRADE_INSTANCE": str(tmp_path / "inst"), **env}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=full_env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_clear_line(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_db_upgrade_creates_schema_on_default_sqlite(tmp_path):
    result = _mixgrade(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "inst" / "mixgrade.sqlite").exists()


@pytest.mark.parametrize("command", [("db", "upgrade"), ("serve",), ("demo",)])
def test_unreachable_database_is_one_line_naming_the_variable(tmp_path, command):
    url = "postgresql+psycopg://nobody:hunter2@127.0.0.1:1/nowhere"
    result = _mixgrade(tmp_path, *command, DATABASE_URL=url)
    _one_clear_line(result, "DATABASE_URL", "127.0.0.1:1/nowhere")
    assert "hunter2" not in result.stderr


def test_malformed_database_url_is_one_line(tmp_path):
    result = _mixgrade(tmp_path, "db", "upgrade", DATABASE_URL="not a url")
    _one_clear_line(result, "DATABASE_URL", "not a url")


def test_unreachable_broker_is_one_line_naming_the_variable(tmp_path):
    assert _mixgrade(tmp_path, "db", "upgrade").returncode == 0
    result = _mixgrade(tmp_path, "worker", CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    _one_clear_line(result, "CELERY_BROKER_URL", "redis://127.0.0.1:1/0")


@pytest.mark.parametrize("command", [("sweep",), ("demo",), ("tokens", "list"), ("serve",)])
def test_unmigrated_database_says_to_run_db_upgrade(tmp_path, command):
    result = _mixgrade(tmp_path, *command)
    _one_clear_line(result, "DATABASE_URL", "mixgrade db upgrade")
