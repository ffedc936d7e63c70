"""Engine and session handling shared by the web app, the CLI and the worker store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    CursorResult,
    Engine,
    Integer,
    Result,
    any_,
    bindparam,
    create_engine,
    event,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from service.config import redact_url


def among(session: Session, column: Any, ids: Iterable[int]) -> ColumnElement[bool]:
    """``column IN ids`` for a list of ids that may be long (a course's 300 students).

    On PostgreSQL it is one array parameter: an IN list of 300 is 300 parameters, and a
    statement that long is re-parsed by psycopg on every call and re-planned by the server.
    SQLite has no arrays and takes the IN list.
    """
    values = list(ids)
    if session.get_bind().dialect.name == "postgresql":
        return cast(
            ColumnElement[bool],
            column == any_(bindparam(None, values, type_=ARRAY(Integer), unique=True)),
        )
    return cast(ColumnElement[bool], column.in_(values))


class Base(DeclarativeBase):
    """Declarative base of all tables; the schema itself is made only by Alembic."""


class DatabaseUnavailable(RuntimeError):
    """The database named by DATABASE_URL cannot be reached or used."""


def make_engine(url: str, *, pre_ping: bool = True, autocommit: bool = False) -> Engine:
    """An engine with settings that suit the backend (SQLite needs WAL for a web + worker).

    ``pre_ping`` tests each pooled connection with a round trip before use, so the first
    web request after a database restart does not fail. A caller that retries on
    OperationalError anyway (the grading worker) turns it off and saves the round trip.
    ``autocommit`` makes every statement its own transaction, for callers whose statements
    are each safe alone: no BEGIN/COMMIT round trips, and a cheaper pool checkout than
    switching the isolation level of a pooled connection each time.
    """
    options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **options
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # Every session in UTC: PostgreSQL hands back timestamps in the server's TimeZone, and
    # the pages print times as UTC.
    return create_engine(
        url,
        pool_pre_ping=pre_ping,
        pool_size=10,
        max_overflow=20,
        connect_args={"options": "-c TimeZone=UTC"},
        **options,
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def check_database(engine: Engine) -> None:
    """Raise DatabaseUnavailable with one line naming DATABASE_URL when it cannot be used."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as error:
        reason = str(getattr(error, "orig", error) or error).strip().splitlines()[0]
        raise DatabaseUnavailable(
            f"cannot reach the database: check DATABASE_URL "
            f"(tried {redact_url(str(engine.url.render_as_string(hide_password=False)))}): "
            f"{reason}"
        ) from None


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def rows_changed(result: Result[Any]) -> int:
    """Rows an UPDATE, INSERT or DELETE touched: the check a conditional write rests on.

    ``Session.execute`` is typed as returning a plain ``Result``; for DML it is a
    ``CursorResult``, which has ``rowcount``.
    """
    return int(cast("CursorResult[Any]", result).rowcount or 0)
