"""Flask extensions: login sessions and CSRF protection on every form."""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import bindparam, select

from service.models import User
from service.web_db import db

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"
csrf = CSRFProtect()


#: Built once: every request loads its user, and ``Session.get`` builds and hashes a new
#: statement each time, which costs more than running this one.
_USER_BY_ID = select(User).where(User.id == bindparam("user_id"))


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    return db().execute(_USER_BY_ID, {"user_id": int(user_id)}).scalar_one_or_none()


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    csrf.init_app(app)
