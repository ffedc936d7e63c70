"""Error pages and JSON errors: a precise message and status, never a traceback."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

import problem_bank
from service.request_input import printable
from service.services.submissions import RETRY_AFTER_SECONDS, NotSaved

#: What any request hears when the database fails under it. Its transaction was rolled
#: back, so nothing it sent was kept; the submit path says more (services/submissions.py).
DATABASE_UNAVAILABLE = (
    "The database cannot be reached right now, so this request was not completed: "
    "anything it sent was NOT saved. Please try again in a few seconds."
)
#: What a student or instructor hears when a stored problem cannot be generated any more.
PROBLEM_UNUSABLE = (
    "This problem cannot be generated right now ({reason}). Nothing was saved; "
    "your instructor needs to fix the problem."
)
#: An unexpected error may strike before or after a commit: promise nothing either way.
UNEXPECTED = (
    "Something went wrong on our side and this request did not complete. If you were "
    "sending answers or changes, they may not have been saved: reload the page to check "
    "before sending them again."
)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return respond(400, "The form expired or was not sent from this site. Reload and retry.")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if request.path.startswith("/api/"):
            return problem_response(error)
        headers = {k: v for k, v in error.get_headers() if k.lower() == "retry-after"}
        return respond(error.code or 500, error.description or error.name, headers)

    @app.errorhandler(SQLAlchemyError)
    def _database(error: SQLAlchemyError):
        if not database_unavailable(error):
            return _unexpected(error)
        app.logger.warning("database unavailable: %s", error)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if request.path.startswith("/api/"):
            response = problem(503, DATABASE_UNAVAILABLE, type=NotSaved.type)
            response.headers.update(headers)
            return response
        return respond(503, DATABASE_UNAVAILABLE, headers)

    @app.errorhandler(problem_bank.SpecError)
    @app.errorhandler(problem_bank.GenerationError)
    def _unusable_problem(error: Exception):
        # A stored problem that can no longer be parsed or drawn (saved before a limit it
        # now exceeds): the request is fine, the problem is not, and retrying will not help.
        app.logger.warning("stored problem unusable: %s", error)
        message = PROBLEM_UNUSABLE.format(reason=str(error).splitlines()[0][:300])
        if request.path.startswith("/api/"):
            return problem(409, message, type="urn:mixgrade:problem:problem-unusable")
        return respond(409, message)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error")
        if request.path.startswith("/api/"):
            return problem(500, UNEXPECTED)
        return respond(500, UNEXPECTED)


def database_unavailable(error: BaseException) -> bool:
    """Whether a database error means "not reachable now" (a 503) rather than a bug.

    A dropped or refused connection, a lock or pool wait that ran out: the request's
    transaction is gone and nothing it did was committed, so retrying later is right.
    """
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError | InterfaceError | PoolTimeout)


def respond(status: int, message: str, headers: dict[str, str] | None = None):
    """An error as JSON for scripts, else as a page.

    A 503 page must not touch the database, which may be what is unavailable: it is
    rendered without Flask's context processors (flask-login's would load the user) from a
    template that does not show who is logged in.
    """
    message = printable(message)  # it may quote input (a JWT's kid) that cannot be encoded
    if wants_json():
        return jsonify({"status": status, "detail": message}), status, headers or {}
    if status == 503:
        page = current_app.jinja_env.get_template("unavailable.html")
        return page.render(status=status, message=message), status, headers or {}
    return render_template("error.html", status=status, message=message), status, headers or {}


# ------------------------------------------------------- RFC 9457 problem details (/api/)


def problem(status: int, detail: str, **extra: Any):
    """An ``application/problem+json`` response: type, title, status, detail and extras."""
    body = {
        "type": extra.pop("type", None) or "about:blank",
        "title": HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error",
        "status": status,
        "detail": printable(detail),
        **extra,
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def problem_response(error: HTTPException):
    """Problem details for an HTTPException, keeping what flask-smorest's abort attached.

    ``abort(status, message=…, errors=…, type=…, headers=…)`` stores its keywords in
    ``error.data``; request validation by webargs stores ``messages`` (location → field →
    messages), which become ``errors`` and a one-line ``detail`` naming each bad field.
    """
    status = error.code or 500
    data: dict[str, Any] = dict(getattr(error, "data", None) or {})
    extra: dict[str, Any] = {}
    detail = data.get("message") or error.description or error.name
    if "messages" in data:
        extra["errors"] = data["messages"]
        detail = "The request is not valid: " + "; ".join(_flatten(data["messages"]))
    elif "errors" in data:
        extra["errors"] = data["errors"]
    if data.get("type"):
        extra["type"] = data["type"]
    response = problem(status, str(detail), **extra)
    headers = dict(data.get("headers") or {})
    for name, value in error.get_headers():
        if name.lower() in ("allow", "www-authenticate", "retry-after"):
            headers[name] = value
    response.headers.update(headers)
    return response


def _flatten(messages: Any, path: str = "") -> list[str]:
    if isinstance(messages, dict):
        out: list[str] = []
        for key, value in messages.items():
            out += _flatten(value, f"{path}.{key}" if path else str(key))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{path}: {' '.join(messages)}"]
    if isinstance(messages, list):
        return [line for m in messages for line in _flatten(m, path)]
    return [f"{path}: {messages}"]
