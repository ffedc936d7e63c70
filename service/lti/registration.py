"""/lti/register: the page an LMS opens for LTI Dynamic Registration.

The LMS admin pastes this page's URL into the LMS; the LMS opens it (in an iframe or a
new window) with ``openid_configuration`` and ``registration_token``. A GET only reads the
LMS's configuration and shows a mixgrade site admin what will be registered; nothing is
written until that admin confirms with a POST (CSRF-checked like every form). The last
page tells the LMS to close the frame (static/lti_registration_close.js).
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from service import security_headers
from service.lti import dynamic_registration
from service.lti.views import tool_urls
from service.services import access
from service.web_db import db

bp = Blueprint("lti_registration", __name__, url_prefix="/lti")


@bp.route("/register", methods=["GET", "POST"])
def register():
    fields = request.form if request.method == "POST" else request.args
    config_url = fields.get("openid_configuration", "")
    token = fields.get("registration_token") or None
    security_headers.allow_framing_by(config_url)  # the LMS opens this page in its own
    if not config_url:
        abort(
            400,
            "This is mixgrade's LTI Dynamic Registration URL: paste it into the LMS (its "
            '"register a tool by URL" page), which opens it with an openid_configuration '
            "parameter. Opened on its own, there is nothing to register.",
        )
    if not current_user.is_authenticated:
        login = url_for("auth.login", next=request.full_path)
        return render_template("lti/register_login.html", login_url=login), 401
    if not access.is_admin(current_user):
        abort(403, "Only a mixgrade site admin can register an LMS.")
    try:
        config = dynamic_registration.discover(config_url)
        if request.method == "GET":
            body = dynamic_registration.registration_request(config, tool_urls())
            return render_template(
                "lti/register_confirm.html", config=config, body=body, token=token
            )
        if request.form.get("shown") != config.fingerprint:
            abort(
                409,
                "The LMS's configuration changed since it was shown to you, so nothing was "
                "registered. Start the registration again from the LMS and check it anew.",
            )
        done = dynamic_registration.complete(db(), config, token, tool_urls())
    except dynamic_registration.RegistrationFailed as failed:
        abort(failed.status, failed.message)
    return render_template("lti/register_done.html", done=done)
