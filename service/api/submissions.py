"""Submissions: accepted with 202 and graded by a worker; poll the status URL for feedback.

``Idempotency-Key`` makes a retried request safe: the same key with the same variant and
answers returns the first submission; the same key with another variant or other answers
is a 409 that stores nothing. Every rule of a submit is in ``services/submissions.py``,
shared with the web form; this module only reads the request and shapes the response.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import url_for

from service.api import access, schemas
from service.api.access import abort
from service.services import student_pages, submissions, timing
from service.web_db import db

blp = access.blueprint("submissions", "Submitting answers and reading feedback.")


@blp.route("/variants/<id:variant_id>/submissions", methods=["POST"])
@blp.arguments(schemas.IdempotencyHeader, location="headers")
@blp.arguments(schemas.SubmissionCreate)
@blp.response(202, schemas.SubmissionAccepted, headers={"Location": {"schema": {"type": "string"}}})
def submit(headers: dict[str, Any], body: dict[str, Any], variant_id: int) -> Any:
    """Submit answers to one's own variant. Nothing is stored if an answer cannot be read."""
    who = access.caller()
    variant, _ = access.variant_for(variant_id)
    if variant.user_id != who.user.id:
        abort(403, message="Only the student who owns a variant may submit to it.")
    try:
        submission, queued = submissions.submit(
            db(),
            who.user,
            submissions.Target.of_variant(db(), variant),
            body["answers"],
            idempotency_key=headers.get("idempotency_key"),
        )
    except submissions.Refused as refused:
        _refuse(refused)
    return _accepted(submission, queued)


@blp.route("/submissions/<id:submission_id>")
@blp.response(200, schemas.SubmissionStatus)
def get_submission(submission_id: int) -> dict[str, Any]:
    """Status, score and per-part feedback (with points) of one submission."""
    submission = access.submission_for(submission_id)
    body = student_pages.status_body(db(), submission)
    return {
        **body,
        "variant_id": submission.variant_id,
        "user_id": submission.user_id,
        "created_at": timing.as_utc(submission.created_at),
        "graded_at": timing.as_utc(submission.graded_at),
    }


def _accepted(
    submission: submissions.Accepted, queued: bool
) -> tuple[dict[str, Any], int, dict[str, str]]:
    url = url_for("submissions.get_submission", submission_id=submission.id)
    body: dict[str, Any] = {
        "id": submission.id,
        "status": submission.status.value,
        "queued": queued,
        "status_url": url,
    }
    if not queued:
        body["detail"] = submissions.GRADING_PAUSED
    return body, 202, {"Location": url}


def _refuse(refused: submissions.Refused) -> NoReturn:
    """The use case's refusal as problem details: its status, type, per-part errors."""
    extra: dict[str, Any] = {"errors": refused.errors} if refused.errors else {}
    abort(
        refused.status,
        message=refused.detail,
        type=refused.type,
        headers=refused.headers(),
        **extra,
    )
