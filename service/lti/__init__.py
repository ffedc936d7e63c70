"""The LTI 1.3 tool: OIDC login, launches, Deep Linking, grade passback (AGS), roster (NRPS)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register /lti. Login and launch are CSRF-exempt: platforms POST signed JWTs to them."""
    from service.extensions import csrf
    from service.lti import registration, views

    csrf.exempt(views.login)
    csrf.exempt(views.launch_view)
    csrf.exempt(views.launch_continue)  # its single-use continuation token stands for one
    app.register_blueprint(views.bp)
    app.register_blueprint(registration.bp)  # /lti/register: LTI Dynamic Registration
