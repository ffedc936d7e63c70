"""Wrong answers no misconception named, with candidate explanations (instructors)."""

from __future__ import annotations

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
        "items": unrecognised.for_assignment(db(), assignment),
    }
