"""The mixgrade web service: `create_app` builds a configured Flask app; nothing runs at import."""

from __future__ import annotations

from typing import Any

from flask import Flask

from service import security_headers
from service.config import Settings


def create_app(config: dict[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """Build the app from Settings (the environment by default) plus test overrides."""
    from service import (
        auth,
        cookies,
        errors,
        extensions,
        instructor,
        prose,
        queue,
        request_input,
        routing,
        student,
        web_db,
    )

    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        MIXGRADE_SETTINGS=settings,
    )
    if config:
        app.config.update(config)
    routing.init_app(app)
    request_input.init_app(app)
    queue.configure(settings, in_requests=True)
    web_db.init_app(app, settings.database_url)
    cookies.init_app(app, settings.trusted_proxies)
    extensions.init_app(app)
    errors.init_app(app)
    security_headers.init_app(app)
    prose.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(student.bp)
    app.register_blueprint(instructor.bp)
    _register_lms(app)
    return app


def _register_lms(app: Flask) -> None:
    """The REST API (/api/v1) and the LTI 1.3 tool (/lti) of issue 6."""
    from service import api, lti

    api.init_app(app)
    lti.init_app(app)
