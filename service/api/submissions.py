"""Submissions: accepted with 202 and graded by a worker; poll the status URL for feedback.

``Idempotency-Key`` makes a retried request safe: the same key with the same answers
returns the first submission; the same key with other answers is a 409.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import url_for
from flask_smorest import abort
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.api import access, schemas
from service.models import Submission
from service.services import answer_checks, student_pages, submissions, timing
from service.web_db import db

blp = access.blueprint("submissions", "Submitting answers and reading feedback.")

UNREADABLE = "urn:mixgrade:problem:unreadable-answers"
NO_ATTEMPTS = "urn:mixgrade:problem:attempts-exhausted"
MAX_ANSWER_CHARS = 2000
MAX_LIST = 200


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
    answers = _clean_answers(variant.content, body["answers"])
    key = headers.get("idempotency_key")
    if key:
        earlier = db().scalar(
            select(Submission).where(
                Submission.user_id == who.user.id, Submission.idempotency_key == key
            )
        )
        if earlier is not None:
            if earlier.variant_id != variant.id or earlier.answers != answers:
                abort(409, message="This Idempotency-Key was used for a different submission.")
            return _accepted(earlier, True)
    item = variant.assignment_problem
    assert item is not None
    if variant.is_practice:
        attempts, late = None, False
    else:
        if timing.is_closed(item.assignment):
            abort(403, message="This assignment is closed; no more submissions.")
        attempts, late = item.assignment.attempts_allowed, timing.is_late(item.assignment)
    try:
        submission, queued = submissions.create(
            db(),
            who.user,
            variant,
            answers,
            attempts_allowed=attempts,
            is_late=late,
            idempotency_key=key,
        )
    except submissions.AttemptsExhausted as error:
        abort(403, message=f"No attempts left: {error}.", type=NO_ATTEMPTS)
    except IntegrityError:  # a concurrent retry with the same key won the race
        db().rollback()
        submission = db().scalar(
            select(Submission).where(
                Submission.user_id == who.user.id, Submission.idempotency_key == key
            )
        )
        if submission is None:
            raise
        queued = True
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
        body["detail"] = "Saved. Grading is paused and will resume automatically."
    return body, 202, {"Location": url}


def _clean_answers(content: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """Answers keyed by the variant's part ids, in shapes the grader reads; else 422."""
    kinds = {p["id"]: p["kind"] for p in content.get("parts", [])}
    errors: dict[str, str] = {}
    unknown = sorted(set(raw) - set(kinds))
    for part_id in unknown:
        errors[part_id] = f"there is no part {part_id!r}; parts are {', '.join(kinds)}"
    answers: dict[str, Any] = {}
    for part_id, kind in kinds.items():
        value = raw.get(part_id)
        problem = _shape_problem(kind, value)
        if problem:
            errors[part_id] = problem
        else:
            answers[part_id] = _normalise(value)
    if errors:
        _abort_unreadable(errors)
    if all(v is None for v in answers.values()):
        abort(422, message="Nothing to submit: every answer is empty.", type=UNREADABLE)
    unreadable = answer_checks.unreadable_parts(content, answers)
    if unreadable:
        _abort_unreadable(unreadable)
    return answers


def _abort_unreadable(errors: dict[str, str]) -> NoReturn:
    """422 naming each part that could not be read and why (shape or value)."""
    abort(
        422,
        message="Some answers could not be read: "
        + "; ".join(f"{k}: {v}" for k, v in errors.items()),
        type=UNREADABLE,
        errors=errors,
    )


def _scalar_ok(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value == value and abs(value) != float("inf")
    return isinstance(value, str) and len(value) <= MAX_ANSWER_CHARS


def _shape_problem(kind: str, value: Any) -> str | None:
    if value is None:
        return None
    if kind in ("multi", "table"):
        if isinstance(value, list):
            if len(value) > MAX_LIST or not all(_scalar_ok(v) for v in value):
                return "expected a list of numbers or texts"
            return None
        return None if _scalar_ok(value) else "expected a list of numbers or texts"
    if not _scalar_ok(value):
        return f"expected a number or a text of at most {MAX_ANSWER_CHARS} characters"
    return None


def _normalise(value: Any) -> Any:
    """Blank text counts as no answer, as it does in the web form."""
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, list) and not any(str(v).strip() for v in value):
        return None
    return value
