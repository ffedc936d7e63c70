"""The problem bank: list, read, and create from a YAML spec with the editor's validation."""

from __future__ import annotations

from typing import Any

from flask import Response

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
@blp.arguments(schemas.ProblemListArgs, location="query")
@blp.response(200, schemas.ProblemPage)
def list_problems(args: dict[str, Any]) -> dict[str, Any]:
    """Every version the caller may see (built-in, published or archived, or their own
    drafts), filtered by status, topic and author; archived ones only when asked for."""
    who = _author()
    author = args.get("author")
    wanted = authoring.BankFilter(
        status=ProblemStatus(args["status"]) if "status" in args else None,
        topic=args["topic"].strip(),
        author=int(author) if author and author != authoring.BUILTIN_AUTHOR else author,
    )
    rows, page = access.paginate(authoring.visible_query(who.user, wanted), args)
    return {**page, "items": [problem_dict(p) for p in rows]}


def _visible(problem_id: int) -> tuple[access.Caller, Problem]:
    who = _author()
    problem = db().get(Problem, problem_id)
    if problem is None or not authoring.can_see(who.user, problem):
        abort(404, message=f"No problem {problem_id}.")
    return who, problem


@blp.route("/problems/<id:problem_id>")
@blp.response(200, schemas.ProblemFull)
def get_problem(problem_id: int) -> dict[str, Any]:
    _who, problem = _visible(problem_id)
    return {**problem_dict(problem), "spec": problem.spec_text, "selftest": problem.selftest}


@blp.route("/problems/<id:problem_id>", methods=["DELETE"])
@blp.response(200, schemas.Problem, description="Something uses it: archived instead.")
@blp.alt_response(204, description="The draft was deleted.")
@blp.alt_response(403, description="Not the author's, or a built-in problem.")
@blp.alt_response(404, description="No such problem, or a draft of another author.")
def delete_problem(problem_id: int) -> Any:
    """Delete a draft nothing uses; archive a used draft or a published version (authors
    only; built-ins never). An archived version is no longer offered for new assignments,
    and the assignments that use it keep working."""
    who, problem = _visible(problem_id)
    try:
        removed = authoring.delete_or_archive(db(), who.user, problem)
    except authoring.Refused as refused:
        abort(403, message=f"{str(refused).capitalize()}.")
    if removed == authoring.Removed.deleted:
        return Response(status=204)
    return problem_dict(problem)


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
