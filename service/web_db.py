"""One database session per request, closed at teardown; the app's seed key."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from service.db import make_engine, make_session_factory


def init_app(app: Flask, database_url: str) -> None:
    engine = make_engine(database_url)
    app.extensions["mixgrade.engine"] = engine
    app.extensions["mixgrade.sessions"] = make_session_factory(engine)
    app.teardown_appcontext(_close_session)


def db() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["mixgrade.sessions"]()
    return g.db_session


def _close_session(_error: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def seed_key() -> bytes:
    """The key this app derives students' seeds with: its Settings', as the workers use."""
    return current_app.config["MIXGRADE_SETTINGS"].seed_key
