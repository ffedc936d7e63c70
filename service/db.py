"""Engine and session handling shared by the web app, the CLI and the worker store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from service.config import redact_url


class Base(DeclarativeBase):
    """Declarative base of all tables; the schema itself is made only by Alembic."""


class DatabaseUnavailable(RuntimeError):
    """The database named by DATABASE_URL cannot be reached or used."""


def make_engine(url: str) -> Engine:
    """An engine with settings that suit the backend (SQLite needs WAL for a web + worker)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
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
