"""Error pages and JSON errors: a precise message and status, never a traceback."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):  # type: ignore[no-untyped-def]
        return _respond(400, "The form expired or was not sent from this site. Reload and retry.")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):  # type: ignore[no-untyped-def]
        return _respond(error.code or 500, error.description or error.name)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):  # type: ignore[no-untyped-def]
        app.logger.exception("unhandled error")
        return _respond(500, "Something went wrong on our side; your work is saved.")


def _respond(status: int, message: str):  # type: ignore[no-untyped-def]
    if wants_json():
        return jsonify({"status": status, "detail": message}), status
    return render_template("error.html", status=status, message=message), status
