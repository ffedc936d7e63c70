"""Shared fixtures: a fresh app and database per test, and the real service servers."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import create_app, migrate
from service.config import Settings

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_ADMIN_URL = os.environ.get(
    "MIXGRADE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("MIXGRADE_TEST_REDIS", "redis://127.0.0.1:6379/15")


def service_missing(what: str, error: Exception) -> None:
    """Locally a missing server skips its tests; in CI it is a failure, never a skip."""
    message = f"{what} is not reachable: {error}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Embedded-default settings in a private instance folder."""
    env = {"MIXGRADE_INSTANCE": str(tmp_path / "instance"), "SECRET_KEY": "test-secret"}
    return Settings.from_env(env)


def settings_on(database: str, request: pytest.FixtureRequest, tmp_path) -> Settings:
    """Settings on the embedded SQLite ("sqlite") or a fresh real PostgreSQL database.

    For modules whose SQL must behave the same on both: they override ``settings`` with a
    fixture parametrized over both names that calls this.
    """
    env = {"MIXGRADE_INSTANCE": str(tmp_path / "instance"), "SECRET_KEY": "test-secret"}
    if database == "postgresql":
        env["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    return Settings.from_env(env)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    migrate.upgrade(settings.database_url)
    application = create_app({"TESTING": True}, settings=settings)
    yield application
    application.extensions["mixgrade.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db_session(app: Flask):
    session = app.extensions["mixgrade.sessions"]()
    yield session
    session.close()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str):
    page = client.get("/login")
    token = csrf_token(page.get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A brand-new database on the real PostgreSQL server, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(POSTGRES_ADMIN_URL)
    name = f"mixgrade_test_{uuid.uuid4().hex[:12]}"
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        service_missing(f"PostgreSQL at {POSTGRES_ADMIN_URL}", error)
    yield admin.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> str:
    """The real Redis server, on a database number the tests own and empty first."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError as error:
        service_missing(f"Redis at {REDIS_URL}", error)
    return REDIS_URL
