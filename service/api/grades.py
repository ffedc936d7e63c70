"""The gradebook of a course, as JSON or as the same CSV the instructor pages export."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Response, request

from service.api import access, schemas
from service.api.access import abort
from service.api.courses import course_dict
from service.models import Course
from service.services import gradebook
from service.web_db import db

blp = access.blueprint("grades", "Gradebook export (instructors).")

CSV_DOC = {
    "responses": {
        "200": {
            "description": "UTF-8 CSV with a byte-order mark, one row per student.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }
}


BAD_VIEW = "assignment_id is not an assignment of this course."


@blp.route("/courses/<id:course_id>/gradebook")
@blp.arguments(schemas.GradebookArgs, location="query")
@blp.response(200, schemas.Grades)
@blp.alt_response(400, description=BAD_VIEW)
def gradebook_json(args: dict[str, Any], course_id: int) -> dict[str, Any]:
    """The gradebook page as JSON: the same view parameters, the same numbers (the points
    that count under each assignment's score policy, with overrides)."""
    course = access.course_for(course_id, teach=True)
    return book_dict(_build(course, request.args))


@blp.route("/courses/<id:course_id>/grades")
@blp.response(200, schemas.Grades)
def grades_json(course_id: int) -> dict[str, Any]:
    """Every problem of the course, per student, with totals (the gradebook by problem)."""
    course = access.course_for(course_id, teach=True)
    return book_dict(_build(course, {"show": "problems"}))


@blp.route("/courses/<id:course_id>/grades.csv")
@blp.arguments(schemas.GradebookArgs, location="query")
@blp.alt_response(400, description=BAD_VIEW)
@blp.doc(**CSV_DOC)
def grades_csv(args: dict[str, Any], course_id: int) -> Response:
    """The gradebook as CSV (opens cleanly in a spreadsheet); ``assignment_id`` for one."""
    course = access.course_for(course_id, teach=True)
    text = gradebook.to_csv(_build(course, request.args))
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{file_safe(course.code)}-grades.csv"'
    )
    return response


def _build(course: Course, args: Mapping[str, str]) -> gradebook.Gradebook:
    """The gradebook as the query string asks, as the web page reads it; 400 if unreadable."""
    try:
        return gradebook.build(db(), course, gradebook.View.from_args(args))
    except gradebook.BadView as error:
        abort(400, message=str(error))


def _points(value: float | None) -> float | None:
    """As the page and the CSV write them: two decimals."""
    return None if value is None else round(value, 2)


def book_dict(book: gradebook.Gradebook) -> dict[str, Any]:
    columns = book.columns
    return {
        "course": course_dict(book.course),
        "view": {
            "assignment_id": book.view.assignment_id,
            "sort": book.view.sort,
            "dir": "desc" if book.view.descending else "asc",
            "q": book.view.q,
        },
        "assignments": [
            {
                "assignment_id": g.assignment.id,
                "label": g.label,
                "title": g.title,
                "possible": _points(g.possible()),
            }
            for g in book.groups
        ],
        "possible": _points(book.possible()),
        "columns": [
            {
                "item_id": c.id,
                "assignment_id": c.assignment_problem.assignment_id,
                "label": c.label,
                "name": c.title,
                "points": c.assignment_problem.points,
            }
            for c in columns
        ],
        "rows": [
            {
                "user": access.user_dict(row.student),
                "total": _points(row.points(columns)),
                "assignment_totals": [
                    {
                        "assignment_id": g.assignment.id,
                        "points": _points(row.points(g.columns)),
                        "possible": _points(g.possible()),
                    }
                    for g in book.groups
                ],
                "cells": [_cell(c.id, row.cells.get(c.id)) for c in columns],
            }
            for row in book.rows
        ],
    }


def _cell(item_id: int, cell: gradebook.Cell | None) -> dict[str, Any]:
    cell = cell or gradebook.Cell()
    return {
        "item_id": item_id,
        "points": _points(cell.points),
        "possible": _points(cell.possible),
        "attempts": cell.attempts,
        "last_submitted_at": cell.last_at,
        "late": cell.late,
        "pending": cell.pending,
        "overridden": cell.overridden,
        "exception": cell.exception,
    }


def file_safe(name: str) -> str:
    """A course code as part of a download's file name (the API's rule for every download)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "course"
