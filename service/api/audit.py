"""A course's audit log: who changed what for whom, and why (instructors)."""

from __future__ import annotations

from typing import Any

from service.api import access, schemas
from service.services import audit, timing
from service.web_db import db

blp = access.blueprint("audit", "The audit log: overrides, exceptions, new versions, edits.")


@blp.route("/courses/<id:course_id>/audit")
@blp.arguments(schemas.AuditArgs, location="query")
@blp.response(200, schemas.AuditLog)
def get_audit(args: dict[str, Any], course_id: int) -> dict[str, Any]:
    """Audit events, newest first; filter with ?student=<user id>&assignment=<id>."""
    course = access.course_for(course_id, teach=True)
    events = audit.for_course(
        db(), course.id, student_id=args["student"], assignment_id=args["assignment"]
    )
    return {
        "course_id": course.id,
        "events": [
            {
                "id": e.id,
                "created_at": timing.as_utc(e.created_at),
                "action": e.action,
                "actor_id": e.actor_id,
                "student_id": e.student_id,
                "assignment_id": e.assignment_id,
                "item_id": e.assignment_problem_id,
                "submission_id": e.submission_id,
                "before": e.before,
                "after": e.after,
                "reason": e.reason,
                "summary": e.summary,
            }
            for e in events
        ],
    }
