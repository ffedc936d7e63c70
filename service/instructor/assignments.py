"""Assignments: create, edit settings, place and order problems, points, copy to a course."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from problem_bank.render import plural
from service.instructor.blueprint import bp, taught_assignment, taught_course, taught_item
from service.models import Assignment, Course, ScorePolicy
from service.routing import row_id
from service.services import access, assignment_editing, copying, scoring, teaching
from service.web_db import db


@bp.route("/courses/<int:course_id>/assignments/new", methods=["GET", "POST"])
def new_assignment(course_id: int):
    course = taught_course(course_id)
    problems = teaching.publishable(db())
    errors: dict[str, str] = {}
    if request.method == "POST":
        draft, errors = teaching.read_assignment_form(request.form)
        allowed = {p.id for p in problems}
        if any(pid not in allowed for pid, _ in draft.problems):
            errors["problems"] = "Only published problems can be used."
        if not errors:
            assignment = teaching.create_assignment(db(), course, draft)
            flash("Assignment created. Set points per part below if you like.", "ok")
            return redirect(url_for("instructor.assignment", assignment_id=assignment.id))
    status = 422 if errors else 200
    return render_template(
        "teach/assignment_new.html",
        course=course,
        problems=problems,
        policies=_policies(),
        errors=errors,
        form=request.form,
    ), status


@bp.route("/assignments/<int:assignment_id>")
def assignment(assignment_id: int):
    return _assignment_page(taught_assignment(assignment_id))


def _assignment_page(
    assignment: Assignment,
    errors: dict[str, str] | None = None,
    form: Any = None,
    status: int = 200,
):
    """The assignment with its edit forms; ``form`` refills the settings after an error."""
    session = db()
    active = assignment.assignment_problems
    parts = {ap.id: teaching.parts_of(ap.problem) for ap in active}
    shares = {ap.id: teaching.default_part_points(ap) for ap in active}
    settings = teaching.AssignmentSettings.of(assignment)
    return render_template(
        "teach/assignment.html",
        assignment=assignment,
        parts=parts,
        shares=shares,
        submitted={ap.id: assignment_editing.has_submissions(session, ap) for ap in active},
        copy_targets=copy_targets(assignment.course_id),
        problems=teaching.publishable(session),
        policies=_policies(),
        errors=errors or {},
        form=form if form is not None else _settings_form(settings),
        marker=assignment_editing.settings_marker(assignment),
    ), status


def _policies() -> list[tuple[str, str]]:
    return [(policy.value, scoring.POLICY_WORDS[policy]) for policy in ScorePolicy]


def _settings_form(settings: teaching.AssignmentSettings) -> dict[str, str]:
    """The edit form's fields as the browser sends them (dates for datetime-local)."""

    def local(moment: datetime | None) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M") if moment else ""

    return {
        "title": settings.title,
        "due_at": local(settings.due_at),
        "late_until": local(settings.late_until),
        "late_penalty": f"{settings.late_penalty * 100:g}",
        "attempts_allowed": str(settings.attempts_allowed),
        "practice_allowed": "on" if settings.practice_allowed else "",
        "score_policy": settings.score_policy.value,
    }


@bp.route("/assignments/<int:assignment_id>/edit", methods=["POST"])
def edit_assignment(assignment_id: int):
    assignment = taught_assignment(assignment_id)
    settings = teaching.AssignmentSettings.of(assignment)
    errors = teaching.read_settings(request.form, settings)
    if errors:
        return _assignment_page(assignment, errors, request.form, 422)
    try:
        event = assignment_editing.edit_settings(
            db(), assignment, current_user, settings, marker=request.form.get("version")
        )
    except assignment_editing.EditRefused as refused:
        db().rollback()
        return _assignment_page(
            assignment, refused.errors or {"": refused.detail}, request.form, refused.status
        )
    flash("Settings saved." if event else "Nothing changed.", "ok")
    if event and event.summary:
        flash(f"Students are told: {event.summary}", "ok")
    return redirect(url_for("instructor.assignment", assignment_id=assignment.id))


@bp.route("/assignments/<int:assignment_id>/problems", methods=["POST"])
def add_assignment_problem(assignment_id: int):
    assignment = taught_assignment(assignment_id)
    problem_id = row_id(request.form.get("problem_id"))
    try:
        points = teaching.read_points(request.form.get("points"), 10, zero_allowed=False)
        if problem_id is None:
            raise assignment_editing.EditRefused("Choose a published problem.")
        added = assignment_editing.add_problem(db(), assignment, current_user, problem_id, points)
    except ValueError:
        return _refused(assignment, "points", teaching.POSITIVE_POINTS)
    except assignment_editing.EditRefused as refused:
        return _refused(assignment, "add", refused.detail, refused.status)
    flash(f"Added {added.problem.title}.", "ok")
    return redirect(url_for("instructor.assignment", assignment_id=assignment.id))


@bp.route("/items/<int:item_id>/remove", methods=["POST"])
def remove_assignment_problem(item_id: int):
    assignment_problem = taught_item(item_id)
    assignment, title = assignment_problem.assignment, assignment_problem.problem.title
    try:
        archived = assignment_editing.remove_problem(db(), assignment_problem, current_user)
    except assignment_editing.EditRefused as refused:
        return _refused(assignment, "", refused.detail, refused.status)
    flash(
        f"Archived {title}: students' submissions to it are kept."
        if archived
        else f"Removed {title}.",
        "ok",
    )
    return redirect(url_for("instructor.assignment", assignment_id=assignment.id))


@bp.route("/items/<int:item_id>/move", methods=["POST"])
def move_assignment_problem(item_id: int):
    assignment_problem = taught_item(item_id)
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if step is None:
        abort(400, "Move a problem up or down.")
    try:
        assignment_editing.move(db(), assignment_problem, current_user, step)
    except assignment_editing.EditRefused as refused:
        return _refused(assignment_problem.assignment, "order", refused.detail, refused.status)
    return redirect(
        url_for("instructor.assignment", assignment_id=assignment_problem.assignment_id)
    )


@bp.route("/assignments/<int:assignment_id>/order", methods=["POST"])
def reorder_assignment(assignment_id: int):
    """The order form: a position number typed beside each problem."""
    assignment = taught_assignment(assignment_id)
    placed: list[tuple[float, int]] = []
    for ap in assignment.every_assignment_problem:
        raw = request.form.get(f"position-{ap.id}")
        if raw is None:
            continue
        try:
            position = float(raw)
            if not math.isfinite(position):
                raise ValueError(raw)
        except ValueError:
            return _refused(assignment, "order", "Positions are numbers.", 400)
        placed.append((position, ap.id))
    order = [item_id for _, item_id in sorted(placed)]
    try:
        assignment_editing.reorder(db(), assignment, current_user, order)
    except assignment_editing.EditRefused as refused:
        return _refused(assignment, "order", refused.detail, refused.status)
    flash("New order saved.", "ok")
    return redirect(url_for("instructor.assignment", assignment_id=assignment.id))


@bp.route("/assignments/<int:assignment_id>/copy", methods=["POST"])
def copy_assignment(assignment_id: int):
    """Copy the assignment (problems, points, settings; no student work) into a course
    the user teaches."""
    assignment = taught_assignment(assignment_id)
    target, shift_days = _copy_form()
    copy = copying.copy_assignment(db(), assignment, target, shift_days)
    flash(f"Copied {assignment.title} into {target.code}.", "ok")
    return redirect(url_for("instructor.assignment", assignment_id=copy.id))


@bp.route("/courses/<int:course_id>/copy-assignments", methods=["POST"])
def copy_course_assignments(course_id: int):
    """Copy every assignment of the course into another course the user teaches."""
    source = taught_course(course_id)
    target, shift_days = _copy_form()
    copies = copying.copy_course_assignments(db(), source, target, shift_days)
    flash(f"Copied {plural(len(copies), 'assignment')} into {target.code}.", "ok")
    return redirect(url_for("instructor.course", course_id=target.id))


def copy_targets(course_id: int) -> list[Course]:
    """The courses a copy may go to: the others this user teaches."""
    return [c for c in teaching.courses_taught(db(), current_user) if c.id != course_id]


def _copy_form() -> tuple[Course, int]:
    """The target course (403 unless the user teaches it) and the days to shift by."""
    target_id = row_id(request.form.get("course_id"))
    if target_id is None:
        abort(400, "Choose the course to copy into.")
    target = db().get(Course, target_id)
    if target is None or not access.teaches(db(), current_user, target_id):
        abort(403, "You can copy only into a course you teach.")
    try:
        shift_days = copying.read_shift_days(request.form.get("shift_days"))
    except ValueError as error:
        abort(400, f"{str(error).capitalize()}.")
    return target, shift_days


@bp.route("/items/<int:item_id>/points", methods=["POST"])
def part_points(item_id: int):
    """Points per part, or (with a ``points`` field) the problem's total, which the parts
    then share by weight."""
    assignment_problem = taught_item(item_id)
    try:
        if "points" in request.form:
            total = _total_points(request.form.get("points"))
            assignment_editing.set_points(db(), assignment_problem, current_user, points=total)
        else:
            assignment_editing.set_points(
                db(), assignment_problem, current_user, part_form=request.form
            )
    except assignment_editing.EditRefused as refused:
        db().rollback()
        flash("; ".join(f"{k or 'points'}: {v}" for k, v in refused.errors.items()), "error")
    else:
        title, worth = assignment_problem.problem.title, plural(assignment_problem.points, "point")
        flash(f"Points saved: {title} is worth {worth}.", "ok")
    return redirect(
        url_for("instructor.assignment", assignment_id=assignment_problem.assignment_id)
    )


def _total_points(text: str | None) -> float:
    try:
        if not (text or "").strip():
            raise ValueError("no points given")
        return teaching.read_points(text, 10, zero_allowed=False)
    except ValueError as error:
        message = teaching.POSITIVE_POINTS
        raise assignment_editing.EditRefused(message, {"points": message}) from error


def _refused(assignment: Assignment, field: str, message: str, status: int = 422):
    """An edit that was not made: the assignment page again, the message by the form."""
    db().rollback()
    db().refresh(assignment)
    return _assignment_page(assignment, {field: message}, None, status)
