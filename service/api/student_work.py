"""One student's work on one problem, overrides and new versions (instructors only).

The rules are the web pages' (``services.student_detail``, ``overrides``,
``new_versions``); this module reads the request and shapes the JSON.
"""

from __future__ import annotations

from typing import Any, NoReturn

from service.api import access, schemas
from service.api.access import abort
from service.api.exceptions import exception_dict
from service.models import ScoreOverride, Submission
from service.services import new_versions, overrides, student_detail, timing
from service.web_db import db, seed_key

blp = access.blueprint("student_work", "One student's work: attempts, overrides, new versions.")


@blp.route("/items/<id:item_id>/students/<id:user_id>")
@blp.response(200, schemas.StudentProblem)
def get_student_problem(item_id: int, user_id: int) -> dict[str, Any]:
    """Every version and attempt, with answers as typed, feedback, overrides and standing."""
    assignment_problem = access.assignment_problem_for(item_id)
    if not access.caller().teaches(assignment_problem.assignment.course_id):
        abort(403, message="Only the course's instructors may read a student's work.")
    try:
        detail = student_detail.build(db(), assignment_problem, user_id)
    except LookupError:
        abort(404, message=f"No student {user_id} in this course.")
    return detail_dict(detail)


@blp.route("/submissions/<id:submission_id>/overrides", methods=["POST"])
@blp.arguments(schemas.OverrideCreate)
@blp.response(201, schemas.ScoreOverride)
def post_override(body: dict[str, Any], submission_id: int) -> dict[str, Any]:
    """Override a part's points (or the whole attempt's, with part_id null), with a reason."""
    submission = _taught_submission(submission_id)
    try:
        row = overrides.set_override(
            db(), access.caller().user, submission, body["part_id"], body["points"], body["reason"]
        )
    except overrides.Refused as refused:
        _refuse(refused)
    db().commit()
    shaped = override_dict(row)
    assert shaped is not None
    return shaped


@blp.route("/submissions/<id:submission_id>/overrides", methods=["DELETE"])
@blp.arguments(schemas.OverrideDelete)
@blp.response(204)
def delete_override(body: dict[str, Any], submission_id: int) -> None:
    """Remove the override of a part (or of the whole attempt): the grader's points count."""
    submission = _taught_submission(submission_id)
    try:
        overrides.remove_override(
            db(), access.caller().user, submission, body["part_id"], body["reason"]
        )
    except overrides.Refused as refused:
        _refuse(refused)
    db().commit()


@blp.route("/items/<id:item_id>/students/<id:user_id>/new-version", methods=["POST"])
@blp.arguments(schemas.ReasonBody)
@blp.response(201, schemas.NewVersionGiven)
def post_new_version(body: dict[str, Any], item_id: int, user_id: int) -> dict[str, Any]:
    """Give the student a new version (a new dataset); their old attempts stay."""
    assignment_problem = access.assignment_problem_for(item_id)
    if not access.caller().teaches(assignment_problem.assignment.course_id):
        abort(403, message="Only the course's instructors may give a new version.")
    try:
        variant = new_versions.give(
            db(), seed_key(), access.caller().user, assignment_problem, user_id, body["reason"]
        )
    except overrides.Refused as refused:
        _refuse(refused)
    db().commit()
    detail = student_detail.build(db(), assignment_problem, user_id)
    return {"variant_id": variant.id, "version": len(detail.versions)}


# ------------------------------------------------------------------------------ shapes


def _taught_submission(submission_id: int) -> Submission:
    submission = access.submission_for(submission_id)
    assignment_problem = submission.variant.assignment_problem
    assert assignment_problem is not None  # submission_for found its course
    if not access.caller().teaches(assignment_problem.assignment.course_id):
        abort(403, message="Only the course's instructors may override points.")
    return submission


def _refuse(refused: overrides.Refused) -> NoReturn:
    abort(refused.status, message=refused.message)


def override_dict(row: ScoreOverride | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "id": row.id,
        "submission_id": row.submission_id,
        "part_id": row.part_id,
        "points": round(row.points, 4),
        "reason": row.reason,
        "created_by_id": row.created_by_id,
        "created_at": timing.as_utc(row.created_at),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _attempt(version: student_detail.Version, at: student_detail.Attempt) -> dict[str, Any]:
    s, fb = at.submission, at.feedback_by_part
    parts = []
    for part in version.variant.content.get("parts", []):
        pid = part["id"]
        f = fb.get(pid, {})
        parts.append(
            {
                "id": pid,
                "answer": s.answers.get(pid),
                "verdict": f.get("verdict"),
                "message": f.get("message"),
                "misconception": f.get("misconception"),
                "points": _round(at.earned.per_part.get(pid, 0.0)) if at.earned else None,
                "points_possible": round(version.part_points.get(pid, 0.0), 4),
                "override": override_dict(at.overrides.get(pid)),
            }
        )
    return {
        "id": s.id,
        "attempt": s.attempt_number,
        "status": s.status.value,
        "created_at": timing.as_utc(s.created_at),
        "graded_at": timing.as_utc(s.graded_at),
        "is_late": s.is_late,
        "score": s.score,
        "points": _round(at.earned.total) if at.earned else None,
        "override": override_dict(at.overrides.get(None)),
        "parts": parts,
    }


def detail_dict(detail: student_detail.StudentProblem) -> dict[str, Any]:
    st, terms = detail.standing, detail.terms
    assignment_problem = detail.assignment_problem
    return {
        "item_id": assignment_problem.id,
        "assignment_id": assignment_problem.assignment_id,
        "problem_id": assignment_problem.problem_id,
        "user": access.user_dict(detail.student),
        "standing": {
            "policy": str(assignment_problem.assignment.score_policy),
            "points": _round(st.points),
            "possible": _round(st.possible),
            "attempts_used": st.attempts_used,
            "attempts_allowed": st.attempts_allowed,
            "due_at": timing.as_utc(terms.due_at),
            "late_until": timing.as_utc(terms.late_until),
            "late": st.late,
            "overridden": st.overridden,
            "pending": st.pending,
        },
        "exception": exception_dict(terms.exception) if terms.exception else None,
        "versions": [
            {
                "number": v.number,
                "variant_id": v.variant.id,
                "replaced_at": timing.as_utc(v.variant.replaced_at),
                "possible": round(v.possible, 4),
                "attempts": [_attempt(v, at) for at in v.attempts],
            }
            for v in detail.versions
        ],
    }
