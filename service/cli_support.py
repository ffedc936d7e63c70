"""What every `mixgrade` command needs: reachable services, or one clear line saying why not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from service import migrate
from service.config import Settings, redact_url


def check_database(settings: Settings, *, migrated: bool = True) -> None:
    """Exit with one line naming DATABASE_URL when it is malformed or unreachable, or
    (unless ``migrated`` is False, as for `db upgrade` itself) not migrated to the newest
    schema."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from service.db import DatabaseUnavailable, make_engine
    from service.db import check_database as probe

    try:
        engine = make_engine(settings.database_url)
    except (ArgumentError, NoSuchModuleError, ValueError) as error:
        raise click.ClickException(
            f"DATABASE_URL is not a usable database URL "
            f"(got {redact_url(settings.database_url)!r}): {error}"
        ) from None
    try:
        probe(engine)
        if migrated and not migrate.is_current(engine):
            raise click.ClickException(
                f"the database at DATABASE_URL ({redact_url(settings.database_url)}) is not "
                "at the newest schema: run `mixgrade db upgrade`"
            )
        if migrated:
            _check_signing_keys(engine, settings.secret_key)
    except DatabaseUnavailable as error:
        raise click.ClickException(str(error)) from None
    finally:
        engine.dispose()


def _check_signing_keys(engine: Engine, secret_key: str) -> None:
    """Exit with one line naming SECRET_KEY when the stored LTI key does not decrypt."""
    from service.lti import keys

    with Session(engine) as session:
        try:
            keys.check_readable(session, secret_key)
        except keys.SigningKeyUnreadable as error:
            raise click.ClickException(str(error.description)) from None


def check_broker(settings: Settings) -> None:
    """Exit with one line naming CELERY_BROKER_URL when the broker is unreachable."""
    from service import queue

    queue.configure(settings)
    try:
        queue.check_broker(settings)
    except queue.BrokerUnavailable as error:
        raise click.ClickException(str(error)) from None


@contextmanager
def database_session(settings: Settings | None = None) -> Iterator[Session]:
    """A session on DATABASE_URL for one command; the engine is closed afterwards."""
    from service.db import make_engine, make_session_factory

    settings = settings or Settings.from_env()
    check_database(settings)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()
