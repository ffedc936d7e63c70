"""Per-student exceptions on an assignment: extended dates and extra attempts (instructors).

The rules are ``services.exception_editing``'s (the web form's too).
"""

from __future__ import annotations

from typing import Any, NoReturn

from service.api import access, schemas
from service.api.access import abort
from service.models import AssignmentException
from service.services import exception_editing, student_terms, teaching, timing
from service.web_db import db

blp = access.blueprint("exceptions", "Per-student exceptions: extended due dates, extra attempts.")


@blp.route("/assignments/<id:assignment_id>/exceptions")
@blp.response(200, schemas.StudentExceptionList)
def list_exceptions(assignment_id: int) -> dict[str, Any]:
    """Every student's exception on the assignment."""
    assignment = access.assignment_for(assignment_id, teach=True)
    students = teaching.students(db(), assignment.course)
    granted = student_terms.for_assignments(db(), [assignment.id], [u.id for u in students])
    return {
        "assignment_id": assignment.id,
        "exceptions": [
            exception_dict(granted[(assignment.id, u.id)])
            for u in students
            if (assignment.id, u.id) in granted
        ],
    }


@blp.route("/assignments/<id:assignment_id>/exceptions/<id:user_id>")
@blp.response(200, schemas.StudentException)
def get_exception(assignment_id: int, user_id: int) -> dict[str, Any]:
    """One student's exception (404 when they have none)."""
    assignment = access.assignment_for(assignment_id, teach=True)
    _student(assignment, user_id)
    terms = student_terms.for_student(db(), assignment, user_id)
    if terms.exception is None:
        abort(404, message="This student has no exception on this assignment.")
    return exception_dict(terms.exception)


@blp.route("/assignments/<id:assignment_id>/exceptions/<id:user_id>", methods=["PUT"])
@blp.arguments(schemas.StudentExceptionPut)
@blp.response(200, schemas.StudentException)
def put_exception(body: dict[str, Any], assignment_id: int, user_id: int) -> dict[str, Any]:
    """Set or replace the student's exception; their late flags and LMS total follow."""
    assignment = access.assignment_for(assignment_id, teach=True)
    terms = exception_editing.ExceptionTerms(
        due_at=timing.as_utc(body["due_at"]),
        late_until=timing.as_utc(body["late_until"]),
        extra_attempts=body["extra_attempts"],
    )
    try:
        row = exception_editing.set_exception(
            db(), access.caller().user, assignment, user_id, terms, body["reason"]
        )
    except exception_editing.Refused as refused:
        _refuse(refused)
    db().commit()
    return exception_dict(row)


@blp.route("/assignments/<id:assignment_id>/exceptions/<id:user_id>", methods=["DELETE"])
@blp.arguments(schemas.ReasonBody)
@blp.response(204)
def delete_exception(body: dict[str, Any], assignment_id: int, user_id: int) -> None:
    """Remove the student's exception: the assignment's own terms apply again."""
    assignment = access.assignment_for(assignment_id, teach=True)
    try:
        exception_editing.remove_exception(
            db(), access.caller().user, assignment, user_id, body["reason"]
        )
    except exception_editing.Refused as refused:
        _refuse(refused)
    db().commit()


def _student(assignment: Any, user_id: int) -> None:
    if teaching.student_in(db(), assignment.course_id, user_id) is None:
        abort(404, message=f"No student {user_id} in this course.")


def _refuse(refused: exception_editing.Refused) -> NoReturn:
    abort(refused.status, message=refused.message)


def exception_dict(row: AssignmentException) -> dict[str, Any]:
    return {
        "assignment_id": row.assignment_id,
        "user": access.user_dict(row.user),
        "due_at": timing.as_utc(row.due_at),
        "late_until": timing.as_utc(row.late_until),
        "extra_attempts": row.extra_attempts,
        "reason": row.reason,
        "created_at": timing.as_utc(row.created_at),
        "updated_at": timing.as_utc(row.updated_at),
    }
