"""The /lti endpoints: JWKS, OIDC login, launch, Deep Linking, and the admin and course pages.

What to give an LMS: /lti/login (OIDC initiation), /lti/launch (redirect and target link
URI, also the Deep Linking URL) and /lti/jwks (our public keys).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from service import cookies, security_headers
from service.errors import respond
from service.lti import deep_link_settings, deep_linking, keys, launch, passback, platforms, roster
from service.models import (
    Assignment,
    Course,
    LtiContext,
    LtiPlatform,
    LtiResourceLink,
    Role,
    ScoreSendStatus,
)
from service.origins import origin_of
from service.services import access, login_limits
from service.web_db import db

bp = Blueprint("lti", __name__, url_prefix="/lti")


@bp.route("/jwks")
def jwks():
    response = jsonify(keys.jwks(db()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    """OIDC third-party login initiation: remember a state and nonce, go to the platform.

    The browser gets this login's cookie, which /lti/launch requires. A platform that
    names a storage window (``lti_storage_target``) gets a page that also puts the state
    and nonce in that storage, for when the LMS frame cannot keep the cookie.
    """
    wait = login_limits.reserve_lti_login(db(), request.remote_addr)
    if wait:
        abort(
            429,
            "Too many LMS sign-ins from this address; try again in a few minutes.",
            retry_after=wait,
        )
    params = {k: v for k, v in {**request.args, **request.form}.items() if isinstance(v, str)}
    try:
        begun = launch.begin_login(db(), params, url_for("lti.launch_view", _external=True))
    except launch.LaunchRefused as refused:
        abort(refused.status, refused.message)
    if begun.storage_target:
        response = make_response(render_template("lti/login_storage.html", login=begun))
        response.headers["Cache-Control"] = "no-store"
    else:
        response = redirect(begun.auth_url, 302)
    cookies.set_cross_site_cookie(
        response,
        begun.cookie_name,
        begun.cookie_value,
        max_age=int(launch.STATE_LIFETIME.total_seconds()),
        path=url_for("lti.launch_view"),
    )
    return response


@bp.route("/launch", methods=["POST"])
def launch_view():
    """Validate the id_token, provision user/course/enrollment, and go where it points.

    A launch without its login cookie, from a login that used platform storage, first
    gets the page that checks the storage (nothing is spent or provisioned until then).
    """
    try:
        data = launch.validate(db(), request.form, request.cookies)
    except launch.LaunchRefused as refused:
        abort(refused.status, refused.message)
    if isinstance(data, launch.StorageCheck):
        response = make_response(render_template("lti/launch_check.html", check=data))
        response.headers["Cache-Control"] = "no-store"
        return response
    return _forget_login(_launched(data))


@bp.route("/launch/continue", methods=["POST"])
def launch_continue():
    """The check page's post, once the platform's storage held this login's state.

    Only our own page may post it (a cross-site form carrying a continuation token its
    author obtained elsewhere is refused), and only with the token issued for the state.
    """
    if not _posted_by_our_page():
        abort(
            403,
            "This launch continuation was not sent by the mixgrade page that checks launches; "
            "open the link again from the LMS.",
        )
    try:
        data = launch.validate(
            db(), request.form, request.cookies, request.form.get("continuation", "")
        )
    except launch.LaunchRefused as refused:
        abort(refused.status, refused.message)
    assert isinstance(data, launch.Launch)
    return _forget_login(_launched(data))


def _posted_by_our_page() -> bool:
    """Whether the browser says this POST came from a page of our own origin.

    Sec-Fetch-Site where the browser sends it, else Origin; a request with neither is
    not from a current browser's page and is refused too.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    sent = request.headers.get("Origin")
    return sent is not None and sent == origin_of(request.host_url)


def _launched(data: launch.Launch) -> BaseResponse:
    """Provision the validated launch, log its user in and go where it points."""
    user, context = launch.provision(db(), data)
    if data.message_type == launch.DEEP_LINKING_REQUEST:
        key = secrets.token_urlsafe(12)
        session["lti_deep_link"] = {"key": key, **deep_linking.settings_from(data.claims, context)}
        db().commit()
        login_user(user)
        cookies.start_lti_window(data.platform.id)  # its cookie and pages work in the LMS frame
        return redirect(url_for("lti.deep_link", key=key))
    link = launch.resource_link_for(db(), data, context)
    assignment = link.assignment
    db().commit()
    login_user(user)
    cookies.start_lti_window(data.platform.id)
    if assignment is None:
        if data.role == Role.instructor:
            flash("This LMS link does not point at an assignment yet: place it with Deep Linking.")
            return redirect(url_for("lti.course_page", course_id=context.course_id))
        # A page, not abort(): the launch was good, so its login cookie is deleted too.
        return make_response(respond(404, "This LMS link is not set up yet; ask your instructor."))
    if data.role == Role.instructor:
        return redirect(url_for("instructor.assignment", assignment_id=assignment.id))
    if len(assignment.assignment_problems) == 1:
        return redirect(url_for("student.problem", item_id=assignment.assignment_problems[0].id))
    return redirect(url_for("student.course", course_id=assignment.course_id))


def _forget_login(response: BaseResponse) -> BaseResponse:
    """Delete the login cookie of the launch just spent (same attributes, so the browser
    matches it, partitioned or not)."""
    name = launch.login_cookie_name(request.form.get("state", ""))
    cookies.set_cross_site_cookie(response, name, "", max_age=0, path=url_for("lti.launch_view"))
    return response


# ------------------------------------------------------------------------ Deep Linking


@bp.route("/deep-link/<key>", methods=["GET", "POST"])
@login_required
def deep_link(key: str):
    """The instructor picks what to place (or cancels); the page posts the answer to the LMS."""
    settings: dict[str, Any] | None = session.get("lti_deep_link")
    if not settings or settings.get("key") != key:
        abort(400, "This placement has expired; start Deep Linking again from the LMS.")
    context = db().get(LtiContext, settings["context_row_id"])
    platform = db().get(LtiPlatform, settings["platform_id"])
    if context is None or platform is None:
        abort(400, "This placement's LMS course is no longer registered.")
    try:  # checked at launch; again here, as the registration may have changed since
        deep_link_settings.check_return_url(platform, settings.get("return_url"))
    except deep_link_settings.SettingsRefused as refused:
        abort(400, str(refused))
    options = deep_linking.choices(db(), current_user.id, context)
    if request.method == "GET":
        return render_template(
            "lti/deep_link.html", assignments=options, context=context, settings=settings
        )
    chosen: list[Assignment] = []
    target = None
    if request.form.get("action") != "cancel":
        try:
            ids = request.form.getlist("assignment_id")
            chosen = deep_linking.pick(options, ids, settings.get("accept_multiple", False))
            target = deep_linking.target_for(settings, request.form.get("target"))
            deep_linking.attach(db(), context, chosen[0])
        except deep_linking.PlacementRefused as refused:
            abort(refused.status, str(refused))
    token = deep_linking.response_jwt(
        db(), platform, settings, chosen, url_for("lti.launch_view", _external=True), target
    )
    db().commit()
    session.pop("lti_deep_link", None)
    security_headers.allow_form_action(settings["return_url"])  # the page posts to the LMS
    return render_template(
        "lti/deep_link_return.html", return_url=settings["return_url"], jwt=token, chosen=chosen
    )


# ----------------------------------------------------------------- course page (teachers)


@bp.route("/courses/<int:course_id>")
@login_required
def course_page(course_id: int):
    course = _taught_course(course_id)
    contexts = db().scalars(select(LtiContext).where(LtiContext.course_id == course.id)).all()
    links = (
        db()
        .scalars(
            select(LtiResourceLink)
            .join(Assignment, LtiResourceLink.assignment_id == Assignment.id)
            .where(Assignment.course_id == course.id)
        )
        .all()
    )
    return render_template(
        "lti/course.html",
        course=course,
        contexts=contexts,
        links=links,
        sends=passback.sends_for_course(db(), course.id),
    )


@bp.route("/courses/<int:course_id>/roster-sync", methods=["POST"])
@login_required
def roster_sync(course_id: int):
    course = _taught_course(course_id)
    contexts = db().scalars(select(LtiContext).where(LtiContext.course_id == course.id)).all()
    if not contexts:
        abort(404, "This course has not been launched from an LMS yet.")
    for context in contexts:
        try:
            report = roster.sync(db(), context)
        except roster.RosterUnavailable as error:
            flash(f"Roster sync failed: {error}", "error")
            continue
        flash(f"Roster synced from {context.platform.name}: {report.summary()}.")
    return redirect(url_for("lti.course_page", course_id=course.id))


@bp.route("/courses/<int:course_id>/resend", methods=["POST"])
@login_required
def resend(course_id: int):
    course = _taught_course(course_id)
    ids = []
    for row in passback.sends_for_course(db(), course.id):
        if row.status != ScoreSendStatus.sent:
            row.status = ScoreSendStatus.pending
            ids.append(row.id)
    db().commit()
    queued = sum(passback.queue_send(i) for i in ids)
    flash(f"Queued {queued} of {len(ids)} unsent scores again.")
    return redirect(url_for("lti.course_page", course_id=course.id))


def _taught_course(course_id: int) -> Course:
    course = db().get(Course, course_id)
    if course is None or not access.teaches(db(), current_user, course_id):
        abort(404, "No such course.")
    return course


# ------------------------------------------------------------------ platforms (admins)


@bp.route("/platforms", methods=["GET", "POST"])
@login_required
def platforms_page():
    if not access.is_admin(current_user):
        abort(403, "Only admins register LMS platforms.")
    form = request.form
    status = 200
    if request.method == "POST":
        try:
            platform = platforms.register(
                db(),
                name=form.get("name", ""),
                issuer=form.get("issuer", ""),
                client_id=form.get("client_id", ""),
                auth_login_url=form.get("auth_login_url", ""),
                auth_token_url=form.get("auth_token_url", ""),
                jwks_url=form.get("jwks_url", ""),
                deployment_ids=form.get("deployment_ids", "").replace(",", " ").split(),
                token_audience=form.get("token_audience") or None,
                link_by_email=form.get("link_by_email") == "on",
                web_origins=form.get("web_origins", "").replace(",", " ").split(),
            )
        except platforms.RegistrationError as error:
            flash(str(error), "error")
            status = 422
        else:
            flash(f"Registered {platform.name}.")
            return redirect(url_for("lti.platforms_page"))
    rows = db().scalars(select(LtiPlatform).order_by(LtiPlatform.id)).all()
    return render_template(
        "lti/platforms.html",
        platforms=rows,
        tool=tool_urls(),
        form=form,
        signing_keys=keys.published(db()),
    ), status


def tool_urls() -> dict[str, str]:
    """The URLs an LMS admin enters when registering mixgrade."""
    return {
        "login": url_for("lti.login", _external=True),
        "launch": url_for("lti.launch_view", _external=True),
        "deep_linking": url_for("lti.launch_view", _external=True),
        "jwks": url_for("lti.jwks", _external=True),
        "registration": url_for("lti_registration.register", _external=True),
    }
