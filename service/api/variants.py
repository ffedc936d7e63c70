"""Variants: issue a student's own version of an item, read its data, output and parts.

The reference answers, worked solutions and explanations are left out for a student
until the problem page would show them (attempts used up, assignment closed, or a graded
practice version); the course's instructors always see them.
"""

from __future__ import annotations

from typing import Any

from flask import Response, url_for

from problem_bank import kinds
from problem_bank.variant import Part as LibPart
from service import prose
from service.api import access, schemas
from service.api.access import abort
from service.models import Role, StoredVariant, User
from service.services import student_pages, variant_files, variants
from service.web_db import db, seed_key

blp = access.blueprint("variants", "Each student's own dataset, model output and questions.")

CSV_DOC = {
    "responses": {
        "200": {
            "description": "The dataset, exactly the bytes the student downloads.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }
}


@blp.route("/items/<id:item_id>/variants", methods=["POST"])
@blp.arguments(schemas.VariantIssueSchema)
@blp.response(201, schemas.VariantSchema, description="Issued now.")
@blp.alt_response(200, schema=schemas.VariantSchema, description="Issued before; the same variant.")
def issue(body: dict[str, Any], item_id: int) -> tuple[dict[str, Any], int]:
    """Issue the caller's variant of an assignment item, or a student's (instructors).

    Issuing twice returns the same variant: its seed is fixed per student and item.
    The seed itself is shown only to the course's instructors.
    """
    who = access.caller()
    assignment_problem = access.assignment_problem_for(item_id)
    course_id = assignment_problem.assignment.course_id
    target = who.user
    if body.get("user_id") not in (None, who.user.id):
        if not who.teaches(course_id):
            abort(403, message="Only the course's instructors may issue variants for others.")
        student = db().get(User, body["user_id"])
        if student is None or _role(student, course_id) != Role.student:
            abort(422, message=f"User {body['user_id']} is not a student of this course.")
        target = student
    existed = variants.find(db(), target.id, assignment_problem.id) is not None
    variant = variants.ensure(db(), seed_key(), target, assignment_problem)
    return variant_dict(variant, who.teaches(course_id)), 200 if existed else 201


@blp.route("/variants/<id:variant_id>")
@blp.response(200, schemas.VariantSchema)
def get_variant(variant_id: int) -> dict[str, Any]:
    variant, teaches = access.variant_for(variant_id)
    return variant_dict(variant, teaches)


@blp.route("/variants/<id:variant_id>/data.csv")
@blp.doc(**CSV_DOC)
def data_csv(variant_id: int) -> Response:
    """The variant's dataset as CSV."""
    variant, _ = access.variant_for(variant_id)
    try:  # the one rule of what a variant offers (services/variant_files.py)
        body, _content_type = variant_files.file_body(variant, "data.csv")
    except variant_files.NoSuchFile:
        abort(404, message=f"Variant {variant_id} has no dataset (its problem has no data).")
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="variant-{variant.id}.csv"'
    return response


@blp.route("/variants/<id:variant_id>/files/<name>")
@blp.doc(
    responses={
        "200": {
            "description": "One of the variant's downloads (listed in its ``files``).",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    }
)
def variant_file(variant_id: int, name: str) -> Response:
    """A file the variant offers (data.csv, fit.R, fit.py): exactly the student's bytes."""
    variant, _ = access.variant_for(variant_id)
    try:
        body, content_type = variant_files.file_body(variant, name)
    except variant_files.NoSuchFile:
        abort(404, message=f"Variant {variant_id} offers no file {name!r}.")
    response = Response(body, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@blp.route("/variants/<id:variant_id>/plot.png")
@blp.doc(
    responses={
        "200": {
            "description": "The variant's plot (only where its ``plot_url`` is not null).",
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
)
def variant_plot(variant_id: int) -> Response:
    """The plot of the variant's data, as the problem page shows it."""
    variant, _ = access.variant_for(variant_id)
    try:
        png = variant_files.plot_png(db(), variant)
    except variant_files.PlotUnavailable as error:
        abort(404, message=f"Variant {variant_id} has no plot: {error}.")
    return Response(png, mimetype="image/png")


def _role(user: User, course_id: int) -> Role | None:
    from sqlalchemy import select

    from service.models import Enrollment

    return db().scalar(
        select(Enrollment.role).where(
            Enrollment.user_id == user.id, Enrollment.course_id == course_id
        )
    )


def variant_dict(variant: StoredVariant, teaches: bool) -> dict[str, Any]:
    page = student_pages.build(db(), variant)
    reveal = teaches or page.solution_visible
    content = variant.content
    offer = variant_files.offered(variant)
    has_data = any(d.name == "data.csv" for d in offer.downloads)
    parts = []
    for part in content.get("parts", []):
        shown = {
            "id": part["id"],
            "kind": part["kind"],
            "prompt": part.get("prompt", ""),
            "prompt_html": str(prose.to_html(part.get("prompt", ""))),
            "weight": float(part.get("weight", 1.0)),
            "points": round(page.part_points.get(part["id"], 0.0), 4),
            "format_hint": part.get("format_hint", ""),
            "precision": kinds.precision_for(LibPart.from_dict(part)),
            "choices": [{"id": c["id"], "label": c["label"]} for c in part.get("choices", [])],
            "rows": list(part.get("rows", [])),
            "columns": list(part.get("columns", [])),
        }
        if reveal:
            shown.update(
                answer=part.get("answer"),
                solution=part.get("solution", ""),
                solution_html=str(prose.to_html(part.get("solution", ""))),
                explanation=part.get("explanation", ""),
                explanation_html=str(prose.to_html(part.get("explanation", ""))),
            )
        parts.append(shown)
    body: dict[str, Any] = {
        "id": variant.id,
        "user_id": variant.user_id,
        "item_id": variant.assignment_problem_id,
        "problem": content.get("problem", variant.problem.slug),
        "version": int(content.get("version", variant.problem.version)),
        "practice": variant.is_practice,
        "title": content.get("title", ""),
        "story": content.get("story", ""),
        "story_html": str(prose.to_html(content.get("story", ""))),
        "output": content.get("output", ""),
        "r_script": content.get("r_script", ""),
        "python_script": content.get("python_script", ""),
        "data_url": url_for("variants.data_csv", variant_id=variant.id) if has_data else None,
        "files": [
            {
                "name": d.name,
                "description": d.description,
                "url": url_for("variants.variant_file", variant_id=variant.id, name=d.name),
            }
            for d in offer.downloads
        ],
        "plot_url": url_for("variants.variant_plot", variant_id=variant.id) if offer.plot else None,
        "attempts_left": page.attempts_left,
        "solution_visible": page.solution_visible,
        "parts": parts,
    }
    if teaches:  # never to a student: the seed rebuilds the variant, answers included
        body["seed"] = variant.seed
    return body
