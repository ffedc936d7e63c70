"""Browser tests: real `mixgrade serve` + `mixgrade worker` processes, driven by Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.integration.stack import Stack, process_env

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def running_stack(tmp_path: Path) -> Iterator[Stack]:
    """A migrated demo database with a web server and a worker, stopped on the way out."""
    running = Stack(env=process_env(tmp_path), log_dir=tmp_path)
    running.prepare()
    running.start_web()
    running.start_worker()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def stack(tmp_path):
    with running_stack(tmp_path) as running:
        yield running


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
