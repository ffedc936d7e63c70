"""Who is calling the API, and what they may reach: one place for every access rule.

A caller is a live bearer token. It reaches a course only if the token's scope includes
it and its user may reach the course by services.access (the rules web pages and LTI use
too; a scope narrows them, never widens them). Anything out of reach is answered with
404, never 403, so ids of other courses do not leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from flask import g, request
from flask_smorest import Blueprint
from flask_smorest import abort as _smorest_abort
from sqlalchemy import select

from service.models import (
    ApiToken,
    Assignment,
    AssignmentProblem,
    Course,
    Role,
    Submission,
    User,
    Variant,
)
from service.services import access as policy
from service.services import tokens
from service.web_db import db


def abort(status: int, **details: Any) -> NoReturn:
    """flask_smorest's abort (a problem-details error), typed as what it is: it never returns."""
    _smorest_abort(status, **details)
    raise AssertionError("unreachable: abort raises")


@dataclass
class Caller:
    token: ApiToken
    user: User
    course_ids: set[int] | None

    @property
    def is_author(self) -> bool:
        """May use the problem bank (the site role; see services.access)."""
        return policy.is_author(self.user)

    def reaches(self, course_id: int) -> bool:
        return self.course_ids is None or course_id in self.course_ids

    def role_in(self, course_id: int) -> Role | None:
        """The caller's role in a course its token reaches (services.access decides)."""
        if not self.reaches(course_id):
            return None
        return policy.role_in(db(), self.user, course_id)

    def teaches(self, course_id: int) -> bool:
        return self.role_in(course_id) == Role.instructor


def caller() -> Caller:
    return g.api_caller


def blueprint(name: str, description: str) -> Blueprint:
    """A flask-smorest blueprint under /api/v1 whose every route needs a bearer token."""
    from service.api import PREFIX

    blp = Blueprint(name, __name__, url_prefix=PREFIX, description=description)
    blp.before_request(_authenticate)
    return blp


def _authenticate() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        abort(
            401,
            message="Send an API token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="mixgrade"'},
        )
    token = tokens.authenticate(db(), secret.strip())
    if token is None:
        abort(
            401,
            message="The API token is unknown or has been revoked.",
            headers={"WWW-Authenticate": 'Bearer realm="mixgrade", error="invalid_token"'},
        )
    g.api_caller = Caller(token=token, user=token.user, course_ids=tokens.course_ids(db(), token))


# ------------------------------------------------------------------ loading with access


def course_for(course_id: int, *, teach: bool = False) -> Course:
    who = caller()
    course = db().get(Course, course_id)
    if course is None or who.role_in(course_id) is None:
        abort(404, message=f"No course {course_id} (or it is outside this token's scope).")
    if teach and not who.teaches(course_id):
        abort(403, message="Only the course's instructors may do this.")
    return course


def assignment_for(assignment_id: int, *, teach: bool = False) -> Assignment:
    """The assignment if the caller is in its course (404 otherwise); ``teach``: 403 for
    one who is in the course but does not teach it."""
    assignment = db().get(Assignment, assignment_id)
    if assignment is None or caller().role_in(assignment.course_id) is None:
        abort(404, message=f"No assignment {assignment_id}.")
    if teach and not caller().teaches(assignment.course_id):
        abort(403, message="Only the course's instructors may do this.")
    return assignment


def item_for(item_id: int) -> AssignmentProblem:
    item = db().get(AssignmentProblem, item_id)
    if item is None or caller().role_in(item.assignment.course_id) is None:
        abort(404, message=f"No assignment item {item_id}.")
    return item


def variant_for(variant_id: int) -> tuple[Variant, bool]:
    """The variant and whether the caller teaches its course; owners and teachers only."""
    variant = db().get(Variant, variant_id)
    who = caller()
    course_id = policy.course_of(variant) if variant is not None else None
    if variant is None or course_id is None or not who.reaches(course_id):
        abort(404, message=f"No variant {variant_id}.")
    if not policy.may_view_variant(db(), who.user, variant):
        abort(404, message=f"No variant {variant_id}.")
    return variant, who.teaches(course_id)


def submission_for(submission_id: int) -> Submission:
    submission = db().get(Submission, submission_id)
    if submission is None:
        abort(404, message=f"No submission {submission_id}.")
    variant_for(submission.variant_id)
    return submission


def paginate(query: Any, args: dict[str, Any]) -> tuple[list[Any], dict[str, int]]:
    """One page of a select() and the page envelope (page, per_page, total)."""
    from sqlalchemy import func

    page, per_page = args["page"], args["per_page"]
    total = db().scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = list(db().scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return rows, {"page": page, "per_page": per_page, "total": total or 0}


def user_dict(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role.value}
