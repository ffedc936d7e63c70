"""Results: the gradebook (page and CSV), a problem's analytics and unrecognised answers,
regrading and moving an item to a newer problem version."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from problem_bank.render import plural
from service.instructor import gradebook_cells
from service.instructor.blueprint import bp, taught_assignment, taught_course, taught_item
from service.models import Course
from service.services import access, analytics, authoring, gradebook, regrade, unrecognised
from service.web_db import db


@bp.route("/courses/<int:course_id>/gradebook")
def gradebook_page(course_id: int):
    """The gradebook as the query string asks (see gradebook.View): bookmarkable, no JS."""
    course = taught_course(course_id)
    book = _gradebook(course)
    return render_template(
        "teach/gradebook.html",
        book=book,
        cells=gradebook_cells.CellWriter(
            book.columns if book.shows_problems else [],
            book.groups,
            items_url=url_for("instructor.home") + "items/",
            page_url=url_for("instructor.gradebook_page", course_id=course.id),
        ),
    )


@bp.route("/courses/<int:course_id>/gradebook.csv")
def gradebook_csv(course_id: int):
    course = taught_course(course_id)
    book = _gradebook(course)
    body = gradebook.to_csv(book)
    response = Response(body, content_type="text/csv; charset=utf-8")
    part = f"-{_file_safe(book.groups[0].label)}" if book.view.assignment_id else ""
    response.headers["Content-Disposition"] = (
        f'attachment; filename="gradebook-{_file_safe(course.code)}{part}.csv"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _gradebook(course: Course) -> gradebook.Gradebook:
    try:
        return gradebook.build(db(), course, gradebook.View.from_args(request.args))
    except gradebook.BadView as error:
        abort(400, str(error))


@bp.route("/items/<int:item_id>/analytics")
def assignment_problem_analytics(item_id: int):
    assignment_problem = taught_item(item_id)
    return render_template(
        "teach/analytics.html",
        assignment_problem=assignment_problem,
        stats=analytics.for_assignment_problem(db(), assignment_problem),
    )


@bp.route("/assignments/<int:assignment_id>/unrecognised")
def unrecognised_answers(assignment_id: int):
    """Wrong answers no misconception named, grouped, with candidates to add."""
    assignment = taught_assignment(assignment_id)
    return render_template(
        "teach/unrecognised.html",
        assignment=assignment,
        reports=unrecognised.for_assignment(db(), assignment),
        editable=lambda problem: (
            access.is_author(current_user) and authoring.can_edit(current_user, problem)
        ),
        may_author=access.is_author(current_user),
        editor_query=unrecognised.editor_query,
    )


@bp.route("/items/<int:item_id>/regrade", methods=["POST"])
def regrade_assignment_problem(item_id: int):
    assignment_problem = taught_item(item_id)
    count, sent = regrade.regrade_assignment_problem(db(), assignment_problem)
    message = f"Regrading {plural(count, 'submission')} of {assignment_problem.problem.title}."
    if sent < count:
        message += f" {count - sent} will be sent when the queue is back."
    flash(message, "ok")
    return redirect(url_for("instructor.course", course_id=assignment_problem.assignment.course_id))


@bp.route("/items/<int:item_id>/switch-version", methods=["POST"])
def switch_version(item_id: int):
    assignment_problem = taught_item(item_id)
    newer = regrade.newer_version(db(), assignment_problem)
    if newer is None:
        abort(409, "There is no newer published version.")
    regrade.switch_version(db(), assignment_problem, newer)
    flash(
        f"New variants of this item now use version {newer.version}; "
        "variants already issued keep theirs.",
        "ok",
    )
    return redirect(url_for("instructor.course", course_id=assignment_problem.assignment.course_id))


def _file_safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:40] or "course"
