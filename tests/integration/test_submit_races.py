"""Parallel submits over real HTTP, on the production web server (granian, 2 processes).

20 requests fired at once used to store up to 6 "attempt 1"s on a 1-attempt assignment,
and a key reused on another variant replayed the old submission and dropped the new
answers. Here each request is refused or accepted by the database itself; run on the
embedded SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select, update

from service.models import Assignment, AssignmentProblem, Submission, User
from service.services import tokens
from tests.integration.stack import Stack, csrf_from, process_env, student_session
from tests.integration.test_pipeline import STUDENT, _form, _reference_answers, _stored_variant

PARALLEL = 20
API = "/api/v1"


def web_stack(tmp_path, overrides: dict[str, str], attempts: int) -> Stack:
    """The demo with ``attempts`` per assignment, served by the production web server."""
    running = Stack(env=process_env(tmp_path, **overrides), log_dir=tmp_path)
    running.prepare()
    with running.session() as session:
        session.execute(update(Assignment).values(attempts_allowed=attempts))
        session.commit()
    running.start_production_web(workers=2)
    return running


@pytest.fixture(params=["sqlite", "postgresql"])
def stack(request, tmp_path) -> Iterator[Stack]:
    overrides = {}
    if request.param == "postgresql":
        redis_url = request.getfixturevalue("redis_url")
        overrides = {
            "DATABASE_URL": request.getfixturevalue("postgres_url"),
            "CELERY_BROKER_URL": redis_url,
            "CELERY_RESULT_BACKEND": redis_url,
        }
    running = web_stack(tmp_path, overrides, attempts=1)
    try:
        yield running
    finally:
        running.stop()


def _items(stack: Stack) -> list[int]:
    with stack.session() as session:
        return list(session.scalars(select(AssignmentProblem.id).order_by(AssignmentProblem.id)))


def _at_once(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run every call in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], requests.Response]) -> requests.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _open(stack: Stack, item: int) -> tuple[requests.Session, str]:
    """A logged-in browser that has opened the item (which issues the variant), and its
    CSRF token."""
    browser = student_session(stack, STUDENT)
    page = browser.get(f"{stack.base_url}/items/{item}", timeout=30).text
    return browser, csrf_from(page)


def _web_posts(stack: Stack, item: int, answers: list[dict], keys: list[str | None]):
    browser, token = _open(stack, item)
    _, parts = _reference_answers(stack, item)

    def post(answers: dict, key: str | None):
        # One requests session per thread (they are not thread-safe), sharing the login.
        session = requests.Session()
        session.cookies.update(browser.cookies)
        headers = {"Accept": "application/json", **({"Idempotency-Key": key} if key else {})}
        data = _form(answers, parts, token)
        return lambda: session.post(
            f"{stack.base_url}/items/{item}/submit", data=data, headers=headers, timeout=60
        )

    return _at_once([post(a, k) for a, k in zip(answers, keys, strict=True)])


def _api_token(stack: Stack) -> str:
    with stack.session() as session:
        user = session.scalar(select(User).where(User.email == STUDENT))
        _, secret = tokens.create(session, user, name="race")
    return secret


def _api_posts(stack: Stack, item: int, bodies: list[dict], keys: list[str | None]):
    auth = {"Authorization": f"Bearer {_api_token(stack)}"}
    issued = requests.post(
        f"{stack.base_url}{API}/items/{item}/variants", json={}, headers=auth, timeout=30
    )
    assert issued.status_code in (200, 201), issued.text
    url = f"{stack.base_url}{API}/variants/{issued.json()['id']}/submissions"

    def post(body: dict, key: str | None):
        headers = {**auth, **({"Idempotency-Key": key} if key else {})}
        return lambda: requests.post(url, json=body, headers=headers, timeout=60)

    return _at_once([post(b, k) for b, k in zip(bodies, keys, strict=True)])


def _issue_by_api(stack: Stack, item: int) -> tuple[dict, list[dict]]:
    """Issue the student's variant of ``item`` through the API; its reference answers."""
    issued = requests.post(
        f"{stack.base_url}{API}/items/{item}/variants",
        json={},
        headers={"Authorization": f"Bearer {_api_token(stack)}"},
        timeout=30,
    )
    assert issued.status_code in (200, 201), issued.text
    return _reference_answers(stack, item)


def _stored(stack: Stack, item: int) -> list[Submission]:
    variant = _stored_variant(stack, item)
    with stack.session() as session:
        return list(session.scalars(select(Submission).where(Submission.variant_id == variant.id)))


def _other_answers(answers: dict, parts: list[dict]) -> dict:
    """The same answers with one numeric part changed (still readable)."""
    numeric = next(p["id"] for p in parts if p["kind"] == "numeric")
    return {**answers, numeric: "12345"}


def test_parallel_submits_store_exactly_the_allowed_attempts(stack: Stack):
    web_item, api_item, *_ = _items(stack)

    _open(stack, web_item)
    answers, _ = _reference_answers(stack, web_item)
    web = _web_posts(stack, web_item, [answers] * PARALLEL, [None] * PARALLEL)
    assert Counter(r.status_code for r in web) == {202: 1, 409: PARALLEL - 1}, [
        r.text for r in web if r.status_code not in (202, 409)
    ]
    refused = [r.json() for r in web if r.status_code == 409]
    assert all("No attempts left" in body["detail"] for body in refused)
    assert all(body["type"] == "urn:mixgrade:problem:attempts-exhausted" for body in refused)
    assert [s.attempt_number for s in _stored(stack, web_item)] == [1]

    answers, _ = _issue_by_api(stack, api_item)
    api = _api_posts(stack, api_item, [{"answers": answers}] * PARALLEL, [None] * PARALLEL)
    assert Counter(r.status_code for r in api) == {202: 1, 409: PARALLEL - 1}
    for response in api:
        if response.status_code == 409:
            assert response.headers["Content-Type"].startswith("application/problem+json")
            assert response.json()["type"] == "urn:mixgrade:problem:attempts-exhausted"
            assert "No attempts left" in response.json()["detail"]
    assert [s.attempt_number for s in _stored(stack, api_item)] == [1]


def test_one_idempotency_key_raced_stores_once_and_drops_nothing_silently(stack: Stack):
    web_item, api_item, *_ = _items(stack)

    # Web: the same key and answers sent 20 times at once → one row, every reply names it.
    _open(stack, web_item)
    answers, _ = _reference_answers(stack, web_item)
    web = _web_posts(stack, web_item, [answers] * PARALLEL, ["tab-1"] * PARALLEL)
    assert [r.status_code for r in web] == [202] * PARALLEL, [r.text for r in web]
    [stored] = _stored(stack, web_item)
    assert {r.json()["id"] for r in web} == {stored.id}

    # API: the same key with two sets of answers at once. One set is stored; each request
    # with the other set hears that its answers were NOT stored; none is a 500.
    answers, parts = _issue_by_api(stack, api_item)
    other = _other_answers(answers, parts)
    bodies = [{"answers": answers if i % 2 else other} for i in range(PARALLEL)]
    api = _api_posts(stack, api_item, bodies, ["api-1"] * PARALLEL)
    [stored] = _stored(stack, api_item)
    for body, response in zip(bodies, api, strict=True):
        if body["answers"] == stored.answers:
            assert response.status_code == 202 and response.json()["id"] == stored.id
        else:
            assert response.status_code == 409, response.text
            assert "NOT stored" in response.json()["detail"]
