"""Logging in and out with a password (LMS launches come through the lti blueprint)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from service.models import User
from service.passwords import verify_password
from service.services import login_limits
from service.web_db import db

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=512)])


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        wait = login_limits.reserve_try(db(), email, request.remote_addr)
        if wait:
            return _too_many_tries(wait)
        user = db().scalar(select(User).where(User.email == email))
        # Checked even when there is no such user, so both answers take as long.
        right = verify_password(user.password_hash if user else None, form.password.data or "")
        if user is not None and right:
            login_limits.succeeded(db(), email, request.remote_addr)
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        login_limits.failed(db())
        flash("Wrong email or password.", "error")
        return render_template("login.html", form=form), 401
    status = 422 if request.method == "POST" else 200
    return render_template("login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End the session on the server: every copy of this user's session cookies (this
    browser's, an old saved one, other devices') stops working, not only this one."""
    current_user.end_sessions()
    db().commit()
    logout_user()
    return redirect(url_for("auth.login"))


def _too_many_tries(wait_seconds: int) -> Response:
    message = f"Too many failed logins. Try again in {wait_seconds // 60 + 1} minutes."
    response = Response(render_template("error.html", status=429, message=message), status=429)
    response.headers["Retry-After"] = str(wait_seconds)
    return response


#: Longest ?next= kept; our own pages' paths are far shorter.
_MAX_NEXT = 2000


def _safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the home page.

    Browsers drop tabs and newlines inside URLs and read ``\\`` as ``/``, so ``/\\t/evil``
    and ``/\\evil`` both mean ``//evil``: another site. A target is therefore kept only if
    it is printable ASCII without backslashes, starts with one ``/``, has no scheme or
    host, and its percent-decoded form (decoded repeatedly, for double encoding) has no
    control characters or backslashes and does not start with ``//`` either.
    """
    home = url_for("student.dashboard")
    if not target or len(target) > _MAX_NEXT:
        return home
    if any(not "!" <= char <= "~" for char in target) or "\\" in target:
        return home
    decoded = target
    for _ in range(3):
        decoded = unquote(decoded)
    if any(char < " " or char == "\x7f" for char in decoded) or "\\" in decoded:
        return home
    if not target.startswith("/") or target.startswith("//") or decoded.startswith("//"):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return home
    return target
