"""The page where instructors and admins make and revoke their REST API tokens."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from service.models import ApiToken, Course
from service.services import teaching, tokens
from service.web_db import db

bp = Blueprint("api_tokens", __name__, url_prefix="/settings/api-tokens")


@bp.before_request
@login_required
def _instructors_only():
    if not tokens.may_issue(current_user):
        abort(403, "Only instructors and admins make API tokens.")


@bp.route("/", methods=["GET", "POST"])
def index():
    courses = _courses()
    secret = None
    if request.method == "POST":
        wanted = {int(v) for v in request.form.getlist("course") if v.isdigit()}
        chosen = [c for c in courses if c.id in wanted]
        if len(chosen) != len(wanted):
            abort(404, "No such course.")
        try:
            _row, secret = tokens.create(
                db(), current_user, name=request.form.get("name", ""), courses=chosen
            )
        except tokens.TokenRefused as error:
            abort(422, str(error))
    return render_template(
        "api/tokens.html",
        tokens=tokens.listed_for(db(), current_user),
        courses=courses,
        secret=secret,
    )


@bp.route("/<int:token_id>/revoke", methods=["POST"])
def revoke(token_id: int):
    row = db().get(ApiToken, token_id)
    if row is None or row not in tokens.listed_for(db(), current_user):
        abort(404, "No such token.")
    tokens.revoke(db(), token_id)
    flash(f"Token {row.prefix}… is revoked.")
    return redirect(url_for("api_tokens.index"))


def _courses() -> list[Course]:
    if current_user.role.value == "admin":
        return list(db().scalars(select(Course).order_by(Course.code)))
    return teaching.courses_taught(db(), current_user)
