"""The problem bank: list, read, and create from a YAML spec with the editor's validation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from service.api import access, schemas
from service.api.access import abort
from service.models import Problem, ProblemStatus
from service.services import authoring
from service.web_db import db

blp = access.blueprint("problems", "The problem bank (instructors and admins).")

INVALID_SPEC = "urn:mixgrade:problem:invalid-spec"


def _author() -> access.Caller:
    who = access.caller()
    if not who.is_author:
        abort(403, message="Only instructors and admins may use the problem bank.")
    return who


@blp.route("/problems")
@blp.arguments(schemas.PageArgs, location="query")
@blp.response(200, schemas.ProblemPage)
def list_problems(args: dict[str, Any]) -> dict[str, Any]:
    """Every version the caller may see: built-in, published, or their own drafts."""
    who = _author()
    query = (
        select(Problem)
        .where(
            or_(
                Problem.builtin.is_(True),
                Problem.status == ProblemStatus.published,
                Problem.created_by_id == who.user.id,
            )
        )
        .order_by(Problem.slug, Problem.version)
    )
    rows, page = access.paginate(query, args)
    return {**page, "items": [problem_dict(p) for p in rows]}


@blp.route("/problems/<id:problem_id>")
@blp.response(200, schemas.ProblemFull)
def get_problem(problem_id: int) -> dict[str, Any]:
    who = _author()
    problem = db().get(Problem, problem_id)
    if problem is None or not authoring.can_see(who.user, problem):
        abort(404, message=f"No problem {problem_id}.")
    return {**problem_dict(problem), "spec": problem.spec_text, "selftest": problem.selftest}


@blp.route("/problems", methods=["POST"])
@blp.arguments(schemas.ProblemCreate)
@blp.response(201, schemas.ProblemFull)
def create_problem(body: dict[str, Any]) -> dict[str, Any]:
    """Store a new problem (version 1, draft). A bad spec is refused with its line and field."""
    who = _author()
    try:
        problem = authoring.create(db(), who.user, body["spec"])
    except authoring.Refused as refused:
        where = refused.problem
        location = f" (line {where.line}" if where.line else ""
        if where.field:
            location += f", field {where.field}" if location else f" (field {where.field}"
        location += ")" if location else ""
        abort(
            422,
            message=f"The spec is not valid{location}: {where.message}",
            type=INVALID_SPEC,
            errors=[{"line": where.line, "field": where.field, "message": where.message}],
        )
    return {**problem_dict(problem), "spec": problem.spec_text, "selftest": problem.selftest}


def problem_dict(problem: Problem) -> dict[str, Any]:
    return {
        "id": problem.id,
        "slug": problem.slug,
        "version": problem.version,
        "title": problem.title,
        "topic": problem.topic or "",
        "status": problem.status.value,
        "builtin": problem.builtin,
    }
