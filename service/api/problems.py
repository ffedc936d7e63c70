"""The problem bank: list, read, create from a YAML spec with the editor's validation,
check a spec without saving it, and move a course's problems (export, import)."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Response, request

import problem_bank
from service.api import access, schemas
from service.api.access import abort
from service.api.grades import file_safe
from service.models import Course, Problem, ProblemStatus
from service.services import authoring
from service.services import problem_transfer as transfer
from service.web_db import db

blp = access.blueprint("problems", "The problem bank (instructors and admins).")

INVALID_SPEC = "urn:mixgrade:problem:invalid-spec"
IMPORT_REFUSED = "urn:mixgrade:problem:import-refused"
ZIP_DOC = {
    "responses": {
        "200": {
            "description": "A zip: one SLUG.vN.yaml per problem version (the stored text) "
            "and manifest.json (slug, version, title, status, sha256).",
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


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


@blp.route("/problems/validate", methods=["POST"])
@blp.arguments(schemas.SpecText)
@blp.response(200, schemas.SpecDiagnostics)
def validate_spec(body: dict[str, Any]) -> dict[str, Any]:
    """Every diagnostic of a spec (line, field, message, severity); nothing is stored.

    A spec with errors is still a 200: the diagnostics are the answer."""
    _author()
    found = problem_bank.diagnose(body["spec"], seconds=transfer.DIAGNOSE_SECONDS)
    return {
        "ok": not any(d.severity == "error" for d in found),
        "diagnostics": [
            {"line": d.line, "field": d.field, "message": d.message, "severity": d.severity}
            for d in found
        ],
    }


def _taught(course_id: int) -> Course:
    """The course, for its instructors only (404 outside it, 403 for its students)."""
    return access.course_for(course_id, teach=True)


@blp.route("/courses/<id:course_id>/problems/export")
@blp.alt_response(403, description="Not an instructor of the course.")
@blp.doc(**ZIP_DOC)
def export_zip(course_id: int) -> Response:
    """Download the course's problems (every version its assignments use) as a zip."""
    course = _taught(course_id)
    files = transfer.export(db(), course)
    response = Response(transfer.to_zip(course, files), mimetype="application/zip")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{file_safe(course.code)}-problems.zip"'
    )
    return response


@blp.route("/courses/<id:course_id>/problems/export.json")
@blp.response(200, schemas.ProblemExport)
@blp.alt_response(403, description="Not an instructor of the course.")
def export_json(course_id: int) -> dict[str, Any]:
    """The course's problems as JSON; ``problems`` may be posted to an import as it is."""
    course = _taught(course_id)
    files = transfer.export(db(), course)
    return {"course_id": course.id, "problems": [vars(f) for f in files]}


@blp.route("/courses/<id:course_id>/problems/import", methods=["POST"])
@blp.arguments(schemas.ProblemImport)
@blp.response(200, schemas.ProblemImported)
@blp.alt_response(403, description="Not an instructor of the course.")
@blp.alt_response(422, description="A file is not valid, or clashes: nothing was imported.")
def import_problems(body: dict[str, Any], course_id: int) -> dict[str, Any]:
    """Validate every file, then store them all as the caller's drafts, or nothing.

    A file whose text is stored already is ``unchanged``; another text of a problem the
    caller wrote is its next version; of someone else's problem, a 422 (change the id).
    """
    course = _taught(course_id)
    files = [transfer.SpecFile(f["filename"], f["spec"]) for f in body["files"]]
    return _imported(course, files)


ZIP_BODY_DOC = {
    "requestBody": {
        "required": True,
        "description": "A zip of .yaml/.yml spec files at its top level (an export; its "
        "manifest.json is skipped), within the upload limit.",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@blp.route("/courses/<id:course_id>/problems/import.zip", methods=["POST"])
@blp.response(200, schemas.ProblemImported)
@blp.alt_response(403, description="Not an instructor of the course.")
@blp.alt_response(415, description="The body is not sent as application/zip.")
@blp.alt_response(422, description="Not a zip, a refused member, or a file that is not valid.")
@blp.doc(**ZIP_BODY_DOC)
def import_zip(course_id: int) -> dict[str, Any]:
    """The same import from a zip, such as the export downloads: all files or nothing."""
    course = _taught(course_id)
    if request.mimetype != "application/zip":
        abort(415, message="Send the zip as the body with Content-Type: application/zip.")
    try:
        files = transfer.read_zip(request.get_data(cache=False))
    except transfer.ImportRefused as refused:
        _refused(refused)
    return _imported(course, files)


def _imported(course: Course, files: list[transfer.SpecFile]) -> dict[str, Any]:
    try:
        done = transfer.import_problems(db(), access.caller().user, course, files)
    except transfer.NotInstructor as refused:
        abort(403, message=f"{refused}.")
    except transfer.ImportRefused as refused:
        _refused(refused)
    return {
        "items": [
            {
                "file": d.file,
                "slug": d.slug,
                "version": d.version,
                "action": d.action.value,
                "problem_id": d.problem_id,
            }
            for d in done
        ]
    }


def _refused(refused: transfer.ImportRefused) -> NoReturn:
    abort(
        422,
        message=f"Nothing was imported: {refused}",
        type=IMPORT_REFUSED,
        errors=[
            {"file": p.file, "line": p.line, "field": p.field, "message": p.message}
            for p in refused.problems
        ],
    )


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
