"""Wrong answers no misconception named, with candidate explanations (instructors)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from service.api import access, schemas
from service.services import unrecognised
from service.web_db import db

blp = access.blueprint("unrecognised", "Unrecognised wrong answers and suggested misconceptions.")


@blp.route("/assignments/<id:assignment_id>/unrecognised")
@blp.response(200, schemas.Unrecognised)
def get_unrecognised(assignment_id: int) -> dict[str, Any]:
    """Per problem and part: unrecognised wrong answers grouped, with the best candidate."""
    assignment = access.assignment_for(assignment_id, teach=True)
    return {
        "assignment_id": assignment.id,
        "items": [
            {
                "item_id": report.item.id,
                "problem_id": report.item.problem_id,
                "parts": [_part(p) for p in report.parts],
            }
            for report in unrecognised.for_assignment(db(), assignment)
        ],
    }


def _part(part: unrecognised.PartReport) -> dict[str, Any]:
    return {
        "id": part.id,
        "kind": part.kind,
        "answers": part.answers,
        "skipped": part.skipped,
        "not_rebuilt": part.not_rebuilt,
        "unchecked": part.unchecked,
        "groups": [_group(g) for g in part.groups],
        "clusters": [_group(g) for g in part.clusters],
    }


def _group(group: unrecognised.Group) -> dict[str, Any]:
    return {
        "label": group.label,
        "count": group.count,
        "students": group.students,
        "value": group.value,
        "candidate": asdict(group.candidate) if group.candidate else None,
        "explained": group.explained,
        "share": round(group.share, 4),
        "also": group.also,
        "offered": group.offered,
        "answers": [asdict(a) for a in group.answers],
    }
