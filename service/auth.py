"""Logging in and out with a password (LMS launches come through the lti blueprint)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user
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
def login():  # type: ignore[no-untyped-def]
    form = LoginForm()
    if request.method == "POST":
        wait = login_limits.retry_after(db(), request.form.get("email", ""), request.remote_addr)
        if wait:
            return _too_many_tries(wait)
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        user = db().scalar(select(User).where(User.email == email))
        if user is not None and verify_password(user.password_hash, form.password.data or ""):
            login_limits.clear_account(db(), email)
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        login_limits.record_failure(db(), email, request.remote_addr)
        flash("Wrong email or password.", "error")
        return render_template("login.html", form=form), 401
    status = 422 if request.method == "POST" else 200
    return render_template("login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():  # type: ignore[no-untyped-def]
    logout_user()
    return redirect(url_for("auth.login"))


def _too_many_tries(wait_seconds: int) -> Response:
    message = f"Too many failed logins. Try again in {wait_seconds // 60 + 1} minutes."
    response = Response(render_template("error.html", status=429, message=message), status=429)
    response.headers["Retry-After"] = str(wait_seconds)
    return response


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so a crafted ?next= cannot send users elsewhere."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("student.dashboard")
