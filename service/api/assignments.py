"""Assignments of a course: list, read, create."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.api import access, schemas
from service.api.access import abort
from service.api.problems import problem_dict
from service.models import Assignment
from service.services import copying, teaching, timing
from service.web_db import db

blp = access.blueprint("assignments", "Assignments and their problems.")


@blp.route("/courses/<id:course_id>/assignments")
@blp.arguments(schemas.PageArgs, location="query")
@blp.response(200, schemas.AssignmentPage)
def list_assignments(args: dict[str, Any], course_id: int) -> dict[str, Any]:
    course = access.course_for(course_id)
    query = select(Assignment).where(Assignment.course_id == course.id).order_by(Assignment.id)
    rows, page = access.paginate(query, args)
    return {**page, "items": [assignment_dict(a) for a in rows]}


@blp.route("/assignments/<id:assignment_id>")
@blp.response(200, schemas.Assignment)
def get_assignment(assignment_id: int) -> dict[str, Any]:
    return assignment_dict(access.assignment_for(assignment_id))


@blp.route("/courses/<id:course_id>/assignments", methods=["POST"])
@blp.arguments(schemas.AssignmentCreate)
@blp.response(201, schemas.Assignment)
def create_assignment(body: dict[str, Any], course_id: int) -> dict[str, Any]:
    """Create an assignment from published problems (instructors of the course)."""
    course = access.course_for(course_id, teach=True)
    draft = teaching.AssignmentDraft(
        title=body["title"].strip(),
        due_at=body["due_at"],
        late_until=body["late_until"],
        attempts_allowed=body["attempts_allowed"],
        late_penalty=body["late_penalty"],
        practice_allowed=body["practice_allowed"],
        problems=[(p["problem_id"], p["points"]) for p in body["problems"]],
    )
    if not draft.title:
        abort(422, message="The request is not valid: json.title: the title is blank.")
    try:
        assignment = teaching.create_assignment(db(), course, draft)
    except ValueError as error:
        db().rollback()
        abort(422, message=f"The request is not valid: json.problems: {error}.")
    return assignment_dict(assignment)


@blp.route("/assignments/<id:assignment_id>/copy", methods=["POST"])
@blp.arguments(schemas.AssignmentCopy)
@blp.response(201, schemas.Assignment)
def copy_assignment(body: dict[str, Any], assignment_id: int) -> dict[str, Any]:
    """Copy the assignment into a course the caller teaches: problems, points and
    settings (every column), dates moved by ``shift_days``; no student work."""
    assignment = access.assignment_for(assignment_id, teach=True)
    target = access.course_for(body["course_id"], teach=True)
    copy = copying.copy_assignment(db(), assignment, target, body["shift_days"])
    return assignment_dict(copy)


@blp.route("/courses/<id:course_id>/copy-assignments", methods=["POST"])
@blp.arguments(schemas.AssignmentCopy)
@blp.response(201, schemas.AssignmentCopies)
def copy_course_assignments(body: dict[str, Any], course_id: int) -> dict[str, Any]:
    """Copy every assignment of the course into another course the caller teaches."""
    source = access.course_for(course_id, teach=True)
    target = access.course_for(body["course_id"], teach=True)
    copies = copying.copy_course_assignments(db(), source, target, body["shift_days"])
    return {"items": [assignment_dict(a) for a in copies]}


def assignment_dict(assignment: Assignment) -> dict[str, Any]:
    return {
        "id": assignment.id,
        "course_id": assignment.course_id,
        "title": assignment.title,
        "due_at": timing.as_utc(assignment.due_at),
        "late_until": timing.as_utc(assignment.late_until),
        "attempts_allowed": assignment.attempts_allowed,
        "late_penalty": assignment.late_penalty,
        "practice_allowed": assignment.practice_allowed,
        "items": [
            {
                "id": assignment_problem.id,
                "position": assignment_problem.position,
                "points": assignment_problem.points,
                "problem": problem_dict(assignment_problem.problem),
            }
            for assignment_problem in assignment.assignment_problems
        ],
    }
