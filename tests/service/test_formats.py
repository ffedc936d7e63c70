"""One way to write points and times, and times that are UTC whatever the server's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from service.db import make_engine
from service.services import formats, timing


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (10.0, "10"),
        (2.5, "2.5"),
        (10 / 3, "3.33"),
        (0.0, "0"),
        (-0.0, "0"),
        (-0.001, "0"),
        (1234567.0, "1234567"),
        (7, "7"),
        (None, "—"),
    ],
)
def test_points_are_written_without_noise(value, shown):
    assert formats.points(value) == shown


def test_times_are_written_in_utc_whatever_zone_they_come_in():
    east = timezone(timedelta(hours=5, minutes=30))
    moment = datetime(2026, 12, 5, 22, 40, tzinfo=east)  # 17:10 UTC
    assert formats.table_time(moment) == "2026-12-05 17:10 UTC"
    assert formats.time_words(moment) == "5 Dec 2026 17:10 UTC"
    assert formats.table_time(datetime(2026, 12, 5, 17, 10)) == "2026-12-05 17:10 UTC"  # SQLite
    assert formats.table_time(None) == formats.time_words(None) == "—"
    assert timing.as_utc(moment) == moment and timing.as_utc(moment).tzinfo is UTC


def test_postgresql_sessions_read_times_in_utc_on_a_server_set_to_another_zone(postgres_url):
    """A server (or database) whose TimeZone is not UTC hands back local times: every
    session the service opens is set to UTC, so a page's "17:10 UTC" is 17:10 UTC."""
    admin = make_url(postgres_url).set(drivername="postgresql", database="postgres")
    name = make_url(postgres_url).database
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
        c.execute(f"ALTER DATABASE \"{name}\" SET TimeZone = 'America/New_York'")
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW TimeZone")).scalar() == "UTC"
            read = connection.execute(text("SELECT TIMESTAMPTZ '2026-12-05 17:10:00+00'")).scalar()
        assert read.utcoffset() == timedelta(0)
        assert formats.table_time(read) == "2026-12-05 17:10 UTC"
    finally:
        engine.dispose()
