"""What students do: see their courses, open their own variant of a problem, submit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from service.models import Assignment, AssignmentProblem, Enrollment, Submission, Variant
from service.services import submissions, variants
from service.web_db import db

bp = Blueprint("student", __name__)

#: Longest answer text accepted for one part; longer input is refused before parsing.
MAX_ANSWER_CHARS = 2000


@bp.route("/")
@login_required
def dashboard():  # type: ignore[no-untyped-def]
    enrollments = (
        db().scalars(select(Enrollment).where(Enrollment.user_id == current_user.id)).all()
    )
    return render_template("dashboard.html", enrollments=enrollments)


@bp.route("/courses/<int:course_id>")
@login_required
def course(course_id: int):  # type: ignore[no-untyped-def]
    enrollment = _enrollment(course_id)
    rows = []
    for assignment in enrollment.course.assignments:
        for item in assignment.items:
            variant = variants.find(db(), current_user.id, item.id)
            subs = _submissions(variant) if variant else []
            graded = [s for s in subs if s.score is not None]
            rows.append(
                {
                    "assignment": assignment,
                    "item": item,
                    "attempts_used": len(subs),
                    "score": max((s.score for s in graded), default=None),
                }
            )
    return render_template("course.html", course=enrollment.course, rows=rows)


@bp.route("/items/<int:item_id>")
@login_required
def problem(item_id: int):  # type: ignore[no-untyped-def]
    item = _item_for_student(item_id)
    variant = variants.ensure(db(), current_user, item)
    subs = _submissions(variant)
    return render_template(
        "problem.html",
        item=item,
        assignment=item.assignment,
        variant=variant.content,
        variant_id=variant.id,
        submissions=subs,
        attempts_left=max(0, item.assignment.attempts_allowed - len(subs)),
    )


@bp.route("/items/<int:item_id>/submit", methods=["POST"])
@login_required
def submit(item_id: int):  # type: ignore[no-untyped-def]
    item = _item_for_student(item_id)
    variant = variants.ensure(db(), current_user, item)
    answers = _answers_from_form(variant.content)
    try:
        submission, queued = submissions.create(
            db(),
            current_user,
            variant,
            answers,
            attempts_allowed=item.assignment.attempts_allowed,
            is_late=_is_late(item.assignment),
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
    except submissions.AttemptsExhausted as error:
        return _reply({"detail": str(error)}, 403)
    body = {
        "id": submission.id,
        "status": submission.status.value,
        "queued": queued,
        "status_url": url_for("student.submission_status", submission_id=submission.id),
    }
    if not queued:
        body["detail"] = "Saved. Grading is paused and will resume automatically."
    if request.accept_mimetypes.best == "application/json":
        return jsonify(body), 202
    return redirect(url_for("student.problem", item_id=item_id, submitted=submission.id))


@bp.route("/submissions/<int:submission_id>")
@login_required
def submission_status(submission_id: int):  # type: ignore[no-untyped-def]
    submission = db().get(Submission, submission_id)
    if submission is None or submission.user_id != current_user.id:
        abort(404, "No such submission.")
    return jsonify(
        {
            "id": submission.id,
            "status": submission.status.value,
            "attempt": submission.attempt_number,
            "score": submission.score,
            "is_late": submission.is_late,
            "feedback": submission.feedback,
            "failed": submission.status.value == "failed",
        }
    )


def _reply(body: dict[str, Any], status: int):  # type: ignore[no-untyped-def]
    if request.accept_mimetypes.best == "application/json":
        return jsonify(body), status
    abort(status, body.get("detail", ""))


def _enrollment(course_id: int) -> Enrollment:
    enrollment = db().scalar(
        select(Enrollment).where(
            Enrollment.user_id == current_user.id, Enrollment.course_id == course_id
        )
    )
    if enrollment is None:
        abort(404, "No such course.")
    return enrollment


def _item_for_student(item_id: int) -> AssignmentProblem:
    """The item, if the current user is enrolled in its course; 404 otherwise (no leak)."""
    item = db().get(AssignmentProblem, item_id)
    if item is None:
        abort(404, "No such problem.")
    _enrollment(item.assignment.course_id)
    return item


def _submissions(variant: Variant) -> list[Submission]:
    return list(
        db().scalars(
            select(Submission).where(Submission.variant_id == variant.id).order_by(Submission.id)
        )
    )


def _answers_from_form(content: dict[str, Any]) -> dict[str, Any]:
    """Answers as typed, keyed by part id; multi-select parts arrive as lists."""
    answers: dict[str, Any] = {}
    for part in content.get("parts", []):
        key = f"part-{part['id']}"
        if part["kind"] in ("multi", "table"):
            values = request.form.getlist(key)
        else:
            values = [request.form.get(key, "")]
        if any(len(v) > MAX_ANSWER_CHARS for v in values):
            abort(413, f"The answer to part {part['id']} is too long.")
        answers[part["id"]] = values if part["kind"] in ("multi", "table") else values[0]
    return answers


def _is_late(assignment: Assignment) -> bool:
    if assignment.due_at is None:
        return False
    due = assignment.due_at if assignment.due_at.tzinfo else assignment.due_at.replace(tzinfo=UTC)
    return datetime.now(UTC) > due
