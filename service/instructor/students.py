"""One student's work: their problem page, overrides, a new version, exceptions, the audit log."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from service.instructor.blueprint import bp, taught_assignment, taught_course, taught_item
from service.models import Assignment, AssignmentProblem, Submission
from service.routing import row_id
from service.services import (
    audit,
    exception_editing,
    new_versions,
    overrides,
    student_detail,
    student_terms,
    teaching,
    variant_files,
)
from service.web_db import db, seed_key


@bp.route("/items/<int:item_id>/students/<int:user_id>")
def student_problem(item_id: int, user_id: int):
    """A gradebook cell opened: the student's dataset, output, plot and every attempt."""
    return _student_page(taught_item(item_id), user_id)


@bp.route("/submissions/<int:submission_id>/overrides", methods=["POST"])
def override_points(submission_id: int):
    form = request.form
    return _change_override(
        submission_id,
        lambda submission: overrides.set_override(
            db(),
            current_user,
            submission,
            form.get("part_id") or None,
            form.get("points"),
            form.get("reason"),
        ),
        "Override saved; the student sees it with your reason.",
    )


@bp.route("/submissions/<int:submission_id>/overrides/remove", methods=["POST"])
def remove_override(submission_id: int):
    form = request.form
    return _change_override(
        submission_id,
        lambda submission: overrides.remove_override(
            db(), current_user, submission, form.get("part_id") or None, form.get("reason")
        ),
        "Override removed; the grader's points count again.",
    )


@bp.route("/items/<int:item_id>/students/<int:user_id>/new-version", methods=["POST"])
def new_version(item_id: int, user_id: int):
    assignment_problem = taught_item(item_id)
    try:
        new_versions.give(
            db(), seed_key(), current_user, assignment_problem, user_id, request.form.get("reason")
        )
    except overrides.Refused as refused:
        db().rollback()
        if refused.status == 404:
            abort(404, refused.message)
        return _student_page(assignment_problem, user_id, refused)
    db().commit()
    flash("New version given: the student now sees a new dataset.", "ok")
    return _back_to_student(assignment_problem, user_id)


@bp.route("/assignments/<int:assignment_id>/exceptions")
def exceptions(assignment_id: int):
    return _exceptions_page(taught_assignment(assignment_id))


@bp.route("/assignments/<int:assignment_id>/exceptions/<int:user_id>", methods=["POST"])
def set_exception(assignment_id: int, user_id: int):
    assignment = taught_assignment(assignment_id)
    terms, reason, errors = exception_editing.read_form(request.form)
    back_item = request.form.get("item_id", type=row_id)
    try:
        if errors:
            raise overrides.Refused("; ".join(errors.values()))
        exception_editing.set_exception(db(), current_user, assignment, user_id, terms, reason)
    except overrides.Refused as refused:
        db().rollback()
        return _exception_refused(assignment, user_id, back_item, refused)
    db().commit()
    flash("Exception saved.", "ok")
    return _after_exception(assignment, user_id, back_item)


@bp.route("/assignments/<int:assignment_id>/exceptions/<int:user_id>/remove", methods=["POST"])
def remove_exception(assignment_id: int, user_id: int):
    assignment = taught_assignment(assignment_id)
    back_item = request.form.get("item_id", type=row_id)
    try:
        exception_editing.remove_exception(
            db(), current_user, assignment, user_id, request.form.get("reason")
        )
    except overrides.Refused as refused:
        db().rollback()
        return _exception_refused(assignment, user_id, back_item, refused)
    db().commit()
    flash("Exception removed: the assignment's own dates and attempts apply.", "ok")
    return _after_exception(assignment, user_id, back_item)


@bp.route("/courses/<int:course_id>/audit")
def audit_log(course_id: int):
    """Who changed what for whom, and why; filtered by ?student= and ?assignment=."""
    course = taught_course(course_id)
    student_id = request.args.get("student", type=row_id)
    assignment_id = request.args.get("assignment", type=row_id)
    events = audit.for_course(db(), course.id, student_id=student_id, assignment_id=assignment_id)
    return render_template(
        "teach/audit.html",
        course=course,
        events=events,
        students=teaching.students(db(), course),
        student_id=student_id,
        assignment_id=assignment_id,
        problems={ap.id: ap for a in course.assignments for ap in a.every_assignment_problem},
        assignments={a.id: a for a in course.assignments},
    )


def _student_page(
    assignment_problem: AssignmentProblem, user_id: int, refused: overrides.Refused | None = None
):
    try:
        detail = student_detail.build(db(), assignment_problem, user_id)
    except LookupError:
        abort(404, "No such student in this course.")
    current = detail.current
    return render_template(
        "teach/student_problem.html",
        detail=detail,
        offered=variant_files.offered(current.variant) if current else None,
        plot_text=variant_files.plot_text(current.variant) if current else "",
        preview=variant_files.preview(current.variant) if current else None,
        error=refused.message if refused else None,
        problems={assignment_problem.id: assignment_problem},
    ), (refused.status if refused else 200)


def _change_override(submission_id: int, change: Callable[[Submission], object], done: str):
    """Run an override use case on the submission: back to the student's page, or the page
    again with the refusal's message and status."""
    submission, assignment_problem = _submission(submission_id)
    try:
        change(submission)
    except overrides.Refused as refused:
        db().rollback()
        return _student_page(assignment_problem, submission.user_id, refused)
    db().commit()
    flash(done, "ok")
    return _back_to_student(assignment_problem, submission.user_id)


def _back_to_student(assignment_problem: AssignmentProblem, user_id: int):
    return redirect(
        url_for("instructor.student_problem", item_id=assignment_problem.id, user_id=user_id)
    )


def _submission(submission_id: int) -> tuple[Submission, AssignmentProblem]:
    """A counted submission of a course the current user teaches; 404 otherwise."""
    submission = db().get(Submission, submission_id)
    assignment_problem = submission.variant.assignment_problem if submission else None
    if submission is None or assignment_problem is None:
        abort(404, "No such submission.")
    taught_course(assignment_problem.assignment.course_id)
    return submission, assignment_problem


@bp.app_template_filter("audit_value")
def _audit_value(value: object) -> str:
    """An audit event's before or after, as short text ("points: 6, reason: …")."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')}: {_audit_value(v)}" for k, v in value.items())
    return str(value)


def _exceptions_page(assignment: Assignment, refused: overrides.Refused | None = None):
    return render_template(
        "teach/exceptions.html",
        assignment=assignment,
        students=(people := teaching.students(db(), assignment.course)),
        granted=student_terms.for_assignments(db(), [assignment.id], [u.id for u in people]),
        error=refused.message if refused else None,
        form=request.form if refused else {},
    ), (refused.status if refused else 200)


def _exception_refused(
    assignment: Assignment, user_id: int, back_item: int | None, refused: overrides.Refused
):
    if refused.status == 404:
        abort(404, refused.message)
    item = db().get(AssignmentProblem, back_item) if back_item else None
    if item is not None and item.assignment_id == assignment.id:
        return _student_page(item, user_id, refused)
    return _exceptions_page(assignment, refused)


def _after_exception(assignment: Assignment, user_id: int, back_item: int | None):
    item = db().get(AssignmentProblem, back_item) if back_item else None
    if item is not None and item.assignment_id == assignment.id:
        return _back_to_student(item, user_id)
    return redirect(url_for("instructor.exceptions", assignment_id=assignment.id))
