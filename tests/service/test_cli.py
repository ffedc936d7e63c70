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


def test_rescore_puts_right_a_stored_score_left_stale(tmp_path):
    """A score stored before its points changed is recomputed from its feedback."""
    from service.config import Settings
    from service.db import make_engine, make_session_factory
    from service.models import Submission, SubmissionStatus
    from tests.service.web_world import build_world, issued_variant

    assert _mixgrade(tmp_path, "db", "upgrade").returncode == 0
    settings = Settings.from_env({"MIXGRADE_INSTANCE": str(tmp_path / "inst")})
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            world = build_world(session, penalty=0.0)
            variant = issued_variant(world, b"key")
            session.add(variant)
            session.flush()
            parts = [
                {"id": p["id"], "score": 1.0, "verdict": "correct", "message": ""}
                for p in variant.content["parts"]
            ]
            stale = Submission(
                variant_id=variant.id,
                user_id=variant.user_id,
                attempt_number=1,
                answers={},
                status=SubmissionStatus.graded,
                feedback={"score": 1.0, "parts": parts},
                raw_score=0.25,
                score=0.25,
            )
            session.add(stale)
            session.commit()
            stale_id = stale.id
        result = _mixgrade(tmp_path, "rescore")
        assert result.returncode == 0, result.stderr
        assert "rescored: 1 submissions changed" in result.stdout
        with make_session_factory(engine)() as session:
            fixed = session.get(Submission, stale_id)
            assert fixed is not None and fixed.score == 1.0 and fixed.raw_score == 1.0
        again = _mixgrade(tmp_path, "rescore")
        assert "rescored: 0 submissions changed" in again.stdout, again.stderr
    finally:
        engine.dispose()
