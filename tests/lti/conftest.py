"""The simulated platform and the tool, each on its own 127.0.0.1 port, talking real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask

from service.lti import launch, platforms
from tests.integration.stack import Stack, process_env, serve_in_thread
from tests.lti.platform import Platform


@dataclass
class Tool:
    app: Flask
    base_url: str


@pytest.fixture
def tool(app: Flask) -> Iterator[Tool]:
    """The mixgrade app served over HTTP in a thread (its database is the app fixture's).

    Each test's tool starts without the JWKS clients of earlier tests: a new test platform
    can get an earlier one's port, hence its JWKS URL, and PyJWT (≥ 2.15) refetches a key
    set for an unknown kid only 30 s after its last fetch, so the new platform's launches
    would be refused as signed with a key it does not publish.
    """
    launch._jwks_clients.clear()
    served = serve_in_thread(app)
    yield Tool(app, f"http://127.0.0.1:{served.port}")
    served.stop()


@pytest.fixture
def platform(tool: Tool, db_session) -> Iterator[Platform]:
    """A started platform, registered with the tool (as an admin would)."""
    lms = Platform().start()
    lms.tool_jwks_url = f"{tool.base_url}/lti/jwks"
    platforms.register(db_session, name="Simulated LMS", **lms.registration())
    yield lms
    lms.stop()


@pytest.fixture
def stack(tmp_path) -> Iterator[Stack]:
    """`mixgrade` processes on a migrated database with the demo (start web/worker in the test)."""
    running = Stack(env=process_env(tmp_path), log_dir=tmp_path)
    running.prepare()
    try:
        yield running
    finally:
        running.stop()
