"""instance/ is the owner's alone: a 0700 folder of 0600 files, whatever the umask.

The embedded default keeps everything there: the SQLite database with its -wal and -shm
journals, the broker and Celery result databases, secret_key and demo-logins.txt.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from service import create_app, migrate, queue
from service.config import Settings
from service.services.demo import load_demo
from tests.conftest import login


def modes(instance: Path) -> dict[str, str]:
    """Every entry under instance/ (and the folder itself) → its permission bits."""
    found = {".": oct(stat.S_IMODE(instance.stat().st_mode))}
    for path in instance.rglob("*"):
        found[str(path.relative_to(instance))] = oct(stat.S_IMODE(path.lstat().st_mode))
    return found


def assert_private(instance: Path, expected_files: set[str]) -> None:
    found = modes(instance)
    assert expected_files <= set(found), found
    assert found.pop(".") == "0o700", found
    assert {name: mode for name, mode in found.items() if mode != "0o600"} == {}


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual 022 umask, so only the code under test can make the files private."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_app_requests_and_the_embedded_broker_leave_only_private_files(tmp_path, loose_umask):
    instance = tmp_path / "instance"
    settings = Settings.from_env({"MIXGRADE_INSTANCE": str(instance)})  # no SECRET_KEY
    migrate.upgrade(settings.database_url)
    app = create_app({"TESTING": True}, settings=settings)
    sessions = app.extensions["mixgrade.sessions"]
    try:
        with sessions() as session:
            [student, *_] = [x for x in load_demo(session, instance / "demo-logins.txt")
                             if x.role == "student"]  # fmt: skip
        client = app.test_client()
        assert login(client, student.email, student.password).status_code == 302
        assert client.get("/").status_code == 200
        queue.configure(settings)
        assert queue.send_grading(1)  # the broker database gets its tables and a message
        # While the engine is open the database has its WAL and shared-memory files.
        assert_private(
            instance,
            {"mixgrade.sqlite", "mixgrade.sqlite-wal", "mixgrade.sqlite-shm", "broker.sqlite",
             "celery-results.sqlite", "secret_key", "demo-logins.txt"},
        )  # fmt: skip
    finally:
        app.extensions["mixgrade.engine"].dispose()
    assert_private(instance, {"mixgrade.sqlite", "secret_key"})


def test_an_older_install_with_readable_files_is_narrowed(tmp_path, loose_umask):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    for name in ("mixgrade.sqlite", "secret_key", "demo-logins.txt"):
        (instance / name).write_text("x")
        (instance / name).chmod(0o644)
    Settings.from_env({"MIXGRADE_INSTANCE": str(instance)})
    assert_private(instance, {"mixgrade.sqlite", "secret_key", "demo-logins.txt"})


def test_a_database_outside_instance_is_not_touched(tmp_path, loose_umask):
    elsewhere = tmp_path / "shared.sqlite"
    env = {"MIXGRADE_INSTANCE": str(tmp_path / "instance"), "SECRET_KEY": "k",
           "DATABASE_URL": f"sqlite:///{elsewhere}"}  # fmt: skip
    Settings.from_env(env)
    assert not elsewhere.exists()
