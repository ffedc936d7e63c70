"""A database connection dropped during a request, on the real PostgreSQL server.

The test terminates the request's own backend (``pg_terminate_backend`` from an admin
connection) at the moment that matters, from an SQLAlchemy event hook: just before the
submit's INSERT, just before its COMMIT, or before the user is loaded. Once: the submit
is retried inside the request and stored. Every time: a 503 with Retry-After that says
the answers were NOT saved, and no row. Never a 500, never a false "saved".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url

from service.config import Settings
from tests.conftest import settings_on
from tests.service.submit_fronts import FRONTS, Front
from tests.service.web_world import World, as_user, build_world

ANSWERS = {"intercept": "1.5"}


@pytest.fixture
def settings(request, tmp_path) -> Settings:
    return settings_on("postgresql", request, tmp_path)


@pytest.fixture
def world(db_session) -> World:
    return build_world(db_session)


@pytest.fixture(params=FRONTS)
def front(request, client, world, db_session) -> Front:
    made = Front(request.param, client, world, db_session)
    made.open(world.item)
    return made


class Killer:
    """Terminates the backend of the app's connection when a chosen statement is sent."""

    def __init__(self, app, postgres_url: str) -> None:
        self.engine = app.extensions["mixgrade.engine"]
        url = make_url(postgres_url).set(drivername="postgresql")
        self.admin = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
        self.kills = 0
        self._hooks: list[tuple[str, Callable]] = []

    def on_statement(self, starts: str, times: int | None) -> None:
        """Kill the backend just before each statement containing ``starts`` (``times``
        times; None: every time)."""

        def hook(conn: Connection, _cursor, statement: str, *_args) -> None:
            if starts in statement and (times is None or self.kills < times):
                self._terminate(conn)

        self._listen("before_cursor_execute", hook)

    def on_commit(self, times: int | None) -> None:
        """Kill the backend just before the transaction's COMMIT is sent."""

        def hook(conn: Connection) -> None:
            if times is None or self.kills < times:
                self._terminate(conn)

        self._listen("commit", hook)

    def _listen(self, name: str, hook: Callable) -> None:
        event.listen(self.engine, name, hook)
        self._hooks.append((name, hook))

    def _terminate(self, conn: Connection) -> None:
        pid = conn.connection.dbapi_connection.info.backend_pid
        self.admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 10
        while self.admin.execute(
            "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone():
            assert time.monotonic() < deadline, "the backend did not exit"
            time.sleep(0.01)
        self.kills += 1

    def close(self) -> None:
        for name, hook in self._hooks:
            event.remove(self.engine, name, hook)
        self.admin.close()


@pytest.fixture
def killer(app, postgres_url) -> Iterator[Killer]:
    made = Killer(app, postgres_url)
    yield made
    made.close()


def test_a_connection_dropped_before_the_insert_is_retried_and_stored(front: Front, killer, world):
    killer.on_statement("INSERT INTO submissions", times=1)
    reply = front.submit(world.item, ANSWERS)
    assert killer.kills == 1
    assert reply.status == 202, reply.body
    [stored] = front.stored(world.item)
    assert stored.id == reply.body["id"] and stored.attempt_number == 1


def test_a_connection_dropped_at_the_commit_is_retried_and_stored_once(front: Front, killer, world):
    killer.on_commit(times=1)
    reply = front.submit(world.item, ANSWERS)
    assert killer.kills == 1
    assert reply.status == 202, reply.body
    [stored] = front.stored(world.item)
    assert stored.id == reply.body["id"] and stored.attempt_number == 1


def test_a_connection_that_keeps_dropping_is_a_503_saying_nothing_was_saved(
    front: Front, killer, world
):
    killer.on_statement("INSERT INTO submissions", times=None)
    reply = front.submit(world.item, ANSWERS)
    assert killer.kills == 2  # the first try and its one retry
    assert reply.status == 503, reply.body
    assert reply.headers["Retry-After"] == "5"
    assert "NOT saved" in reply.body["detail"]
    assert front.stored(world.item) == []
    if front.kind == "api":
        assert reply.mimetype == "application/problem+json"


def test_the_html_form_hears_not_saved_too(client, world, killer, db_session):
    """Without JavaScript the form posts and gets a page, which must not need the database."""
    front = Front("web", client, world, db_session)
    front.open(world.item)
    killer.on_statement("INSERT INTO submissions", times=None)
    response = client.post(
        f"/items/{world.item.id}/submit",
        data={"csrf_token": front._csrf, "part-intercept": "1.5"},
    )
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "NOT saved" in response.get_data(as_text=True)


def test_losing_the_database_while_loading_the_user_is_a_503_not_a_500(client, world, killer):
    as_user(client, "alice")
    killer.on_statement("FROM users", times=None)
    for accept in ("text/html", "application/json"):
        response = client.get(f"/items/{world.item.id}", headers={"Accept": accept})
        assert response.status_code == 503, response.get_data(as_text=True)
        assert response.headers["Retry-After"] == "5"
        text = response.get_data(as_text=True)
        assert "NOT saved" in text and "your work is saved" not in text


def test_losing_the_database_while_checking_an_api_token_is_a_problem_503(
    client, world, killer, db_session
):
    front = Front("api", client, world, db_session)
    killer.on_statement("FROM api_tokens", times=None)
    response = client.get("/api/v1/courses", headers=front._auth())
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.mimetype == "application/problem+json"
    assert "NOT saved" in response.get_json()["detail"]


def test_a_connection_dropped_before_the_submit_reads_its_item_is_retried(
    client, world, killer, db_session
):
    front = Front("web", client, world, db_session)
    front.open(world.item)
    killer.on_statement("FROM assignment_problems JOIN assignments", times=1)
    reply = front.submit(world.item, ANSWERS)
    assert killer.kills == 1
    assert reply.status == 202, reply.body
    assert [s.id for s in front.stored(world.item)] == [reply.body["id"]]
