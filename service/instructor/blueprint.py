"""The instructor blueprint (/teach): who may come in, and the lookups every page uses.

Who may come in is decided in services.access: the pages are open to whoever teaches a
course (by enrollment, as an LMS launch makes them) or has a site instructor account;
every course route checks the enrollment in that course (:func:`taught_course` and its
siblings answer 404 otherwise, so a course's existence does not leak); writing problems
in the shared bank needs the site role (:func:`author_only`)."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required

from service.models import Assignment, AssignmentProblem, Course
from service.services import access
from service.web_db import db

bp = Blueprint("instructor", __name__, url_prefix="/teach")


@bp.before_request
@login_required
def _instructors_only():
    if not access.may_teach(db(), current_user):
        abort(403, "This page is for instructors.")


@bp.app_context_processor
def _teaching_nav() -> dict[str, object]:
    """``may_teach()`` for the header: called only on pages that draw the nav."""
    return {"may_teach": lambda: access.may_teach(db(), current_user)}


def author_only() -> None:
    """Writing in the bank publishes to every course, so it needs the site role."""
    if not access.is_author(current_user):
        abort(
            403,
            "Writing problems for the shared bank needs a mixgrade instructor account; "
            "teaching a course from the LMS lets you build assignments from published "
            "problems. An admin can give you the instructor role.",
        )


def taught_course(course_id: int) -> Course:
    """The course if the current user teaches it; 404 otherwise (no leak that it exists)."""
    course = db().get(Course, course_id)
    if course is None or not access.teaches(db(), current_user, course_id):
        abort(404, "No such course.")
    return course


def taught_assignment(assignment_id: int) -> Assignment:
    """The assignment if the current user teaches its course; 404 otherwise."""
    assignment = db().get(Assignment, assignment_id)
    if assignment is None:
        abort(404, "No such assignment.")
    taught_course(assignment.course_id)
    return assignment


def taught_item(item_id: int) -> AssignmentProblem:
    assignment_problem = db().get(AssignmentProblem, item_id)
    if assignment_problem is None:
        abort(404, "No such problem in an assignment.")
    taught_course(assignment_problem.assignment.course_id)
    return assignment_problem
