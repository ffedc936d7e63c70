"""Assignments of a course: list, read, create, and edit while the term runs."""

from __future__ import annotations

from typing import Any

from flask import Response
from sqlalchemy import select

from service.api import access, schemas
from service.api.access import abort
from service.api.problems import problem_dict
from service.models import Assignment, AssignmentProblem, ScorePolicy
from service.services import assignment_editing, copying, teaching, timing
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
        score_policy=ScorePolicy(body["score_policy"]),
        problems=[(p["problem_id"], p["points"]) for p in body["problems"]],
    )
    _settings_valid(draft)
    try:
        assignment = teaching.create_assignment(db(), course, draft)
    except ValueError as error:
        db().rollback()
        abort(422, message=f"The request is not valid: json.problems: {error}.")
    return assignment_dict(assignment)


@blp.route("/assignments/<id:assignment_id>", methods=["PATCH"])
@blp.arguments(schemas.AssignmentEdit)
@blp.response(200, schemas.Assignment)
def edit_assignment(body: dict[str, Any], assignment_id: int) -> dict[str, Any]:
    """Change settings (instructors of the course); late flags, scores and LMS totals
    follow. Send the assignment's ``version`` to get 409 if it changed in between."""
    assignment = access.assignment_for(assignment_id, teach=True)
    settings = teaching.AssignmentSettings.of(assignment)
    for name in ("title", "due_at", "late_until", "attempts_allowed", "late_penalty"):
        if name in body:
            setattr(settings, name, body[name])
    if "practice_allowed" in body:
        settings.practice_allowed = body["practice_allowed"]
    if "score_policy" in body:
        settings.score_policy = ScorePolicy(body["score_policy"])
    _settings_valid(settings)
    _edit(
        assignment_editing.edit_settings,
        assignment,
        access.caller().user,
        settings,
        marker=body.get("version"),
        reason=body["reason"],
    )
    return assignment_dict(assignment)


@blp.route("/assignments/<id:assignment_id>/items", methods=["POST"])
@blp.arguments(schemas.ItemCreate)
@blp.response(201, schemas.AssignmentItem)
def add_item(body: dict[str, Any], assignment_id: int) -> dict[str, Any]:
    """Add a published problem at the end of the assignment."""
    assignment = access.assignment_for(assignment_id, teach=True)
    added = _edit(
        assignment_editing.add_problem,
        assignment,
        access.caller().user,
        body["problem_id"],
        body["points"],
    )
    return item_dict(added)


@blp.route("/assignments/<id:assignment_id>/items/<id:item_id>", methods=["DELETE"])
@blp.response(200, schemas.AssignmentItem, description="Archived: students had submitted.")
@blp.alt_response(204, description="Deleted: no one had submitted.")
def remove_item(assignment_id: int, item_id: int) -> Any:
    """Remove a problem: deleted if no one submitted to it, else archived (200) with
    every submission kept."""
    assignment_problem = _item(assignment_id, item_id)
    archived = _edit(assignment_editing.remove_problem, assignment_problem, access.caller().user)
    if not archived:
        return Response(status=204)
    db().refresh(assignment_problem)
    return item_dict(assignment_problem)


@blp.route("/assignments/<id:assignment_id>/items/order", methods=["PUT"])
@blp.arguments(schemas.ItemOrder)
@blp.response(200, schemas.Assignment)
def reorder_items(body: dict[str, Any], assignment_id: int) -> dict[str, Any]:
    """Put the problems in a new order: every active item id, once each. 409 when the
    assignment's problems changed since the caller read them."""
    assignment = access.assignment_for(assignment_id, teach=True)
    _edit(assignment_editing.reorder, assignment, access.caller().user, body["order"])
    db().refresh(assignment)
    return assignment_dict(assignment)


@blp.route("/assignments/<id:assignment_id>/items/<id:item_id>", methods=["PATCH"])
@blp.arguments(schemas.ItemEdit)
@blp.response(200, schemas.AssignmentItem)
def edit_item(body: dict[str, Any], assignment_id: int, item_id: int) -> dict[str, Any]:
    """Change a problem's points, in total or per part; scores and LMS totals follow."""
    assignment_problem = _item(assignment_id, item_id)
    who = access.caller().user
    if "points" in body:
        _edit(assignment_editing.set_points, assignment_problem, who, points=body["points"])
        return item_dict(assignment_problem)
    known = teaching.default_part_points(assignment_problem)
    unknown = sorted(set(body["part_points"]) - set(known))
    if unknown:
        abort(
            422,
            message=f"The request is not valid: json.part_points: no part {', '.join(unknown)}.",
        )
    values = {**known, **body["part_points"]}
    form = {f"part-{assignment_problem.id}-{pid}": str(v) for pid, v in values.items()}
    _edit(assignment_editing.set_points, assignment_problem, who, part_form=form)
    return item_dict(assignment_problem)


def _settings_valid(settings: teaching.AssignmentSettings) -> None:
    """422 naming each field the forms' own rule (teaching.check_settings) refuses."""
    errors = teaching.check_settings(settings)
    if errors:
        fields = "; ".join(f"json.{name}: {message}" for name, message in errors.items())
        abort(422, message=f"The request is not valid: {fields}", errors=errors)


def _item(assignment_id: int, item_id: int) -> AssignmentProblem:
    """An item of this assignment that the caller teaches (404 for another's)."""
    assignment = access.assignment_for(assignment_id, teach=True)
    assignment_problem = db().get(AssignmentProblem, item_id)
    if assignment_problem is None or assignment_problem.assignment_id != assignment.id:
        abort(404, message=f"No item {item_id} in assignment {assignment_id}.")
    return assignment_problem


def _edit(use_case: Any, *args: Any, **kwargs: Any) -> Any:
    """Run an editing use case; a refusal becomes its problem details (4xx), never 500."""
    try:
        return use_case(db(), *args, **kwargs)
    except assignment_editing.EditRefused as refused:
        db().rollback()
        details = {"errors": refused.errors} if refused.errors else {}
        abort(refused.status, message=refused.detail, **details)


def item_dict(assignment_problem: AssignmentProblem) -> dict[str, Any]:
    return {
        "id": assignment_problem.id,
        "position": assignment_problem.position,
        "points": assignment_problem.points,
        "part_points": teaching.default_part_points(assignment_problem),
        "archived_at": timing.as_utc(assignment_problem.archived_at),
        "problem": problem_dict(assignment_problem.problem),
    }


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
        "score_policy": str(assignment.score_policy),
        "version": assignment_editing.settings_marker(assignment),
        "items": [item_dict(ap) for ap in assignment.assignment_problems],
    }
