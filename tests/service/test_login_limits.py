"""The login-try counters: one atomic upsert per try, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import update

from service.config import Settings
from service.models import LoginTries, utcnow
from service.services import login_limits
from tests.conftest import settings_on

EMAIL = "s@example.edu"


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path) -> Settings:
    return settings_on(request.param, request, tmp_path)


def test_concurrent_reservations_allow_exactly_the_limit(app):
    sessions = app.extensions["mixgrade.sessions"]

    def reserve(_: int) -> int:
        with sessions() as session:
            return login_limits.reserve_try(session, EMAIL, "203.0.113.9")

    with ThreadPoolExecutor(16) as pool:
        waits = list(pool.map(reserve, range(40)))
    assert waits.count(0) == login_limits.PER_ACCOUNT
    assert all(0 < wait <= login_limits.WINDOW.total_seconds() + 1 for wait in waits if wait)


def test_the_count_starts_again_when_the_window_ends(db_session):
    for _ in range(login_limits.PER_ACCOUNT):
        assert login_limits.reserve_try(db_session, EMAIL, None) == 0
    assert login_limits.reserve_try(db_session, EMAIL, None) > 0
    db_session.execute(update(LoginTries).values(window_started_at=utcnow() - login_limits.WINDOW))
    db_session.commit()
    assert login_limits.reserve_try(db_session, EMAIL, None) == 0
    assert login_limits.tries(db_session, EMAIL) == 1


def test_the_address_limit_covers_many_accounts(db_session):
    address = "198.51.100.7"
    waits = [
        login_limits.reserve_try(db_session, f"user{n}@example.edu", address)
        for n in range(login_limits.PER_ADDRESS + 3)
    ]
    assert waits.count(0) == login_limits.PER_ADDRESS
    login_limits.failed(db_session)  # prunes only ended windows: the address stays locked
    assert login_limits.reserve_try(db_session, "other@example.edu", address) > 0


def test_a_right_password_does_not_count_against_the_address(db_session):
    address = "198.51.100.8"
    for n in range(login_limits.PER_ADDRESS + 5):
        email = f"student{n}@example.edu"
        assert login_limits.reserve_try(db_session, email, address) == 0
        login_limits.succeeded(db_session, email, address)
