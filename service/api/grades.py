"""The gradebook of a course, as JSON or as the same CSV the instructor pages export."""

from __future__ import annotations

import re
from typing import Any

from flask import Response

from service.api import access, schemas
from service.api.courses import course_dict
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


@blp.route("/courses/<id:course_id>/grades")
@blp.response(200, schemas.Grades)
def grades_json(course_id: int) -> dict[str, Any]:
    """Best points per student and assignment item, with totals."""
    course = access.course_for(course_id, teach=True)
    book = gradebook.build(db(), course)
    return {
        "course": course_dict(course),
        "possible": round(book.possible(), 4),
        "columns": [
            {
                "item_id": assignment_problem.id,
                "assignment_id": assignment_problem.assignment_id,
                "name": gradebook.column_name(assignment_problem),
                "points": assignment_problem.points,
            }
            for assignment_problem in book.assignment_problems
        ],
        "rows": [
            {
                "user": access.user_dict(row.student),
                "total": round(row.total(), 4),
                "cells": [
                    _cell(assignment_problem.id, row.cells.get(assignment_problem.id))
                    for assignment_problem in book.assignment_problems
                ],
            }
            for row in book.rows
        ],
    }


@blp.route("/courses/<id:course_id>/grades.csv")
@blp.doc(**CSV_DOC)
def grades_csv(course_id: int) -> Response:
    """The gradebook as CSV (opens cleanly in a spreadsheet)."""
    course = access.course_for(course_id, teach=True)
    text = gradebook.to_csv(gradebook.build(db(), course))
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_safe(course.code)}-grades.csv"'
    )
    return response


def _cell(item_id: int, cell: gradebook.Cell | None) -> dict[str, Any]:
    cell = cell or gradebook.Cell()
    return {
        "item_id": item_id,
        "points": None if cell.points is None else round(cell.points, 4),
        "possible": None if cell.possible is None else round(cell.possible, 4),
        "attempts": cell.attempts,
        "last_submitted_at": cell.last_at,
        "late": cell.late,
        "pending": cell.pending,
    }


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "course"
