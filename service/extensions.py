"""Flask extensions: login sessions and CSRF protection on every form."""

from __future__ import annotations

import re

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import bindparam, select

from service.models import User
from service.passwords import dummy_hash
from service.web_db import db

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"
csrf = CSRFProtect()


#: Built once: every request loads its user, and ``Session.get`` builds and hashes a new
#: statement each time, which costs more than running this one.
_USER_BY_ID = select(User).where(User.id == bindparam("user_id"))


#: What ``User.get_id`` writes into the session: "<user id>:<session epoch>".
_SESSION_ID = re.compile(r"([0-9]{1,18}):([0-9]{1,18})")


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """The session's user, if the session is still valid.

    The session carries the user's session epoch from login time. Logout and password
    changes raise the epoch in the database, so every older session (and every saved
    copy of its cookie) stops matching here. The epoch comes with the user row this
    query loads anyway: the check costs no extra query. Sessions from before epochs
    existed (a bare id) are not valid: those users log in once more.
    """
    match = _SESSION_ID.fullmatch(session_id)
    if match is None:
        return None
    user = db().execute(_USER_BY_ID, {"user_id": int(match[1])}).scalar_one_or_none()
    if user is None or user.session_epoch != int(match[2]):
        return None
    return user


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    csrf.init_app(app)
    dummy_hash()  # made now, so the first login of an unknown email is not the slow one
