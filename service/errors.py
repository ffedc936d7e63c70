"""Error pages and JSON errors: a precise message and status, never a traceback."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from service.request_input import printable


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):  # type: ignore[no-untyped-def]
        return _respond(400, "The form expired or was not sent from this site. Reload and retry.")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            return problem_response(error)
        return _respond(error.code or 500, error.description or error.name)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):  # type: ignore[no-untyped-def]
        app.logger.exception("unhandled error")
        message = "Something went wrong on our side; your work is saved."
        if request.path.startswith("/api/"):
            return problem(500, message)
        return _respond(500, message)


def _respond(status: int, message: str):  # type: ignore[no-untyped-def]
    message = printable(message)  # it may quote input (a JWT's kid) that cannot be encoded
    if wants_json():
        return jsonify({"status": status, "detail": message}), status
    return render_template("error.html", status=status, message=message), status


# ------------------------------------------------------- RFC 9457 problem details (/api/)


def problem(status: int, detail: str, **extra: Any):  # type: ignore[no-untyped-def]
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


def problem_response(error: HTTPException):  # type: ignore[no-untyped-def]
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
