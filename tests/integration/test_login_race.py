"""The login limit holds under concurrency: 40 parallel wrong passwords over real HTTP.

Run against the development server (threaded, SQLite) and the production web command
(granian, several processes and threads, PostgreSQL), so the count is shared the way
real replicas share it: through the database, not through memory.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from service.services import login_limits
from tests.integration.stack import Stack, csrf_from, process_env

STUDENT = "student1@demo.mixgrade"
PARALLEL = 40


@pytest.fixture(params=["sqlite", "postgresql"])
def stack(request, tmp_path):
    env = process_env(tmp_path)
    if request.param == "postgresql":
        env = process_env(tmp_path, DATABASE_URL=request.getfixturevalue("postgres_url"))
    running = Stack(env=env, log_dir=tmp_path)
    running.prepare()
    try:
        if request.param == "postgresql":
            running.start_production_web(workers=2)
        else:
            running.start_web()
        yield running
    finally:
        running.stop()


def _parallel_posts(stack: Stack, data: dict[str, str], count: int) -> list[requests.Response]:
    """``count`` login posts sent at once (one CSRF session, one connection each)."""
    browser = requests.Session()
    token = csrf_from(browser.get(f"{stack.base_url}/login", timeout=30).text)
    cookies = browser.cookies.get_dict()
    start = threading.Barrier(count)

    def post(_: int) -> requests.Response:
        start.wait()
        return requests.post(
            f"{stack.base_url}/login",
            data={**data, "csrf_token": token},
            cookies=cookies,
            timeout=120,
            allow_redirects=False,
        )

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(post, range(count)))


def test_parallel_wrong_passwords_check_at_most_the_limit(stack: Stack):
    responses = _parallel_posts(stack, {"email": STUDENT, "password": "wrong"}, PARALLEL)
    statuses = [r.status_code for r in responses]
    # Every 401 is one password checked; everything else must be refused before the check.
    assert statuses.count(401) == login_limits.PER_ACCOUNT, (statuses, stack.log("web"))
    assert statuses.count(429) == PARALLEL - login_limits.PER_ACCOUNT, statuses
    for response in responses:
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) > 0

    # The account stays locked even for the right password until the window ends.
    browser = requests.Session()
    token = csrf_from(browser.get(f"{stack.base_url}/login", timeout=30).text)
    right = {"email": STUDENT, "password": stack.logins[STUDENT], "csrf_token": token}
    locked = browser.post(f"{stack.base_url}/login", data=right, allow_redirects=False, timeout=30)
    assert locked.status_code == 429
