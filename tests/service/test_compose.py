"""docker-compose.yml must be valid; no Docker engine runs here, so check its structure."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from graders.celery_app import GRADING_QUEUE, QUEUES, VARIANTS_QUEUE
from tests.conftest import IN_CI

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def test_compose_has_the_production_services():
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec["services"]
    assert {"postgres", "redis", "web", "worker", "migrate"} <= set(services)
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
    assert services["web"]["command"][0] == "granian"
    assert "service.wsgi:app" in services["web"]["command"]
    assert services["worker"]["command"][:2] == ["mixgrade", "worker"]
    assert services["migrate"]["command"] == ["mixgrade", "db", "upgrade"]
    env = services["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["CELERY_BROKER_URL"].startswith("redis://")
    assert "SECRET_KEY" in env and "${SECRET_KEY" in env["SECRET_KEY"]


def _queues(command: list[str]) -> set[str]:
    """What a `mixgrade worker` command consumes (the CLI's default: every queue)."""
    if "--queues" not in command:
        return set(QUEUES)
    return set(command[command.index("--queues") + 1].split(","))


def test_compose_runs_grading_and_variant_issue_in_separate_pools():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    workers = {
        name: _queues(s["command"])
        for name, s in services.items()
        if s.get("command", [])[:2] == ["mixgrade", "worker"]
    }
    assert set().union(*workers.values()) == set(QUEUES), workers  # every queue consumed
    assert workers["worker"] == {GRADING_QUEUE}  # grading never loads statsmodels
    assert any(VARIANTS_QUEUE in q for q in workers.values())


def test_the_image_runs_the_same_web_server_as_compose():
    """The Dockerfile's default command is compose's web command, so neither drifts."""
    dockerfile = (COMPOSE.parent / "Dockerfile").read_text()
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    web = yaml.safe_load(COMPOSE.read_text())["services"]["web"]["command"]
    assert json.loads(cmd.removeprefix("CMD ")) == web


def _compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return [shutil.which("docker-compose")]
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    return None


def test_docker_compose_config_parses():
    """`docker compose config` validates the file without an engine (.ci/run installs it)."""
    command = _compose_command()
    if command is None:
        if IN_CI:
            pytest.fail("docker-compose is missing: .ci/run should have installed it")
        pytest.skip("neither docker-compose nor the docker compose plugin is installed")
    env = {"POSTGRES_PASSWORD": "x", "SECRET_KEY": "y", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [*command, "-f", str(COMPOSE), "config", "--quiet"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    missing_secret = subprocess.run(
        [*command, "-f", str(COMPOSE), "config", "--quiet"],
        env={"POSTGRES_PASSWORD": "x", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert missing_secret.returncode != 0 and "SECRET_KEY" in missing_secret.stderr
