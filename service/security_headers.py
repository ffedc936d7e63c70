"""Security headers on every response: Content-Security-Policy, nosniff, referrer, framing.

One ``after_request`` hook, so no response can miss them: pages, JSON and problem+json,
error pages, static files, downloads and redirects alike. The policy allows scripts and
styles from our own origin only (no inline script, no inline style attribute, no eval),
so markup injected into a page cannot run; all JavaScript lives in ``service/static/``.

Framing is decided in one function, :func:`frame_ancestors`; forms may post to our own
origin, plus one target a view names with :func:`allow_form_action` (the LMS's Deep
Linking return URL).
"""

from __future__ import annotations

import logging

import jwt
from flask import Flask, Request, Response, g, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from service import cookies
from service.lti import platforms
from service.models import LtiPlatform
from service.origins import origin_of
from service.web_db import db

#: Directives that hold for every response; form-action and frame-ancestors are added per
#: request. ``base-uri 'none'``: no page of ours needs <base>, and an injected one could
#: redirect our relative script URLs.
BASE_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
)

#: Endpoints an LMS shows inside its own page (LTI 1.3 launch flow): the OIDC login
#: initiation, the launch (and its continuation after a client-side storage check), and
#: the Deep Linking picker with its auto-posting return page.
#: The registered platforms may frame them even before a session exists.
LTI_FRAMED_ENDPOINTS = frozenset(
    {"lti.login", "lti.launch_view", "lti.launch_continue", "lti.deep_link"}
)

#: Without a cross-origin referrer path, an LMS sees where a user came from (the origin)
#: but never our URLs; "same-origin" would also blank the Origin header of the Deep
#: Linking return POST, which some platforms check.
REFERRER_POLICY = "strict-origin-when-cross-origin"

log = logging.getLogger(__name__)


def frame_ancestors(req: Request) -> str:
    """The CSP frame-ancestors value for this request: who may show it in a frame.

    An LMS shows a tool in an iframe, so the pages of a session that an LTI launch
    started (cookies.lti_window: problem pages, course pages, the instructor's assignment
    page, the Deep Linking picker and its return page) may be framed by that platform's
    web origins (platforms.web_origins), and only by them. The LTI endpoints in
    :data:`LTI_FRAMED_ENDPOINTS` are framed before such a session exists: by the
    platform the request names (its ``iss`` and ``client_id``, or the id_token's ``iss``
    and ``aud``), else the session's platform, else any registered platform, so that a
    refused launch shows its message inside the LMS. Everything else, and every page of a
    password login, is ``'none'``: no site may frame it, so no click-jacking. The hook
    sends X-Frame-Options: DENY exactly then, since X-Frame-Options cannot list origins.

    Costs one query at most, and only on those requests: all platforms (a handful) on
    the LTI endpoints, the session's platform on a framed session's other pages.
    """
    window = cookies.lti_window()
    named_by_view = g.get("frame_sources")
    if named_by_view and window is None:
        return " ".join(named_by_view)
    if req.endpoint not in LTI_FRAMED_ENDPOINTS and window is None:
        return "'none'"
    try:
        framing = _framing_platforms(req, window)
    except SQLAlchemyError as error:  # the page itself says what failed; no framing then
        log.warning("frame-ancestors: platforms not readable: %s", error)
        return "'none'"
    sources: list[str] = []
    for platform in framing:
        sources += [o for o in platforms.web_origins(platform) if o not in sources]
    return " ".join(sources) or "'none'"


def _framing_platforms(req: Request, window: int | None) -> list[LtiPlatform]:
    if req.endpoint not in LTI_FRAMED_ENDPOINTS:
        found = db().get(LtiPlatform, window)
        return [found] if found is not None else []
    registered = list(db().scalars(select(LtiPlatform).order_by(LtiPlatform.id)))
    issuer, client_ids = _named_platform(req)
    named = [
        p
        for p in registered
        if p.issuer == issuer and (not client_ids or p.client_id in client_ids)
    ]
    return named or [p for p in registered if p.id == window] or registered


def _named_platform(req: Request) -> tuple[str | None, list[str]]:
    """The issuer and client ids a login or launch request names, unverified.

    Only a choice among registered platforms' origins hangs on it, for this response's
    framing; the launch itself is verified in full by lti.launch. A login names them in
    its parameters, a launch in its id_token's iss and aud.
    """
    try:
        params = {**req.args, **req.form}
    except (HTTPException, ValueError):  # a body too large or unreadable: named nothing
        return None, []
    token = params.get("id_token")
    if isinstance(token, str) and token:
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            return None, []
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        issuer = claims.get("iss")
        return (issuer if isinstance(issuer, str) else None), [
            a for a in audiences if isinstance(a, str)
        ]
    issuer, client_id = params.get("iss"), params.get("client_id")
    return (issuer if isinstance(issuer, str) else None), (
        [client_id] if isinstance(client_id, str) and client_id else []
    )


def allow_framing_by(url: str) -> None:
    """Let ``url``'s origin frame this response (http/https only; anything else adds nothing).

    For a page an LMS opens in its own page before it is registered, so no registered
    origin can name it: LTI Dynamic Registration, framed by the origin of the LMS's
    ``openid_configuration`` URL. That origin is whatever the link says, so framing grants
    nothing a click-jacker could use: the page acts only for a signed-in site admin, and a
    password login's cookie is SameSite=Lax, never sent inside another site's frame (there
    the page offers to sign in in a new window). A session opened by an LTI launch keeps
    its own platform's rule.
    """
    source = origin_of(url)
    if source is not None:
        g.frame_sources = [source]


def allow_form_action(url: str) -> None:
    """Let this response's page post a form to ``url``'s origin (http/https only).

    For the Deep Linking return page, which auto-posts to the platform. Anything that is
    not a plain http(s) origin (``javascript:``, a CSP-breaking character) adds nothing,
    so the form stays limited to our own origin.
    """
    source = origin_of(url)
    if source is not None:
        g.setdefault("form_action_sources", []).append(source)


def content_security_policy(req: Request, ancestors: str | None = None) -> str:
    """The full policy for this request: the base, form targets and the framing rule
    (``ancestors``, when the caller has already worked it out)."""
    form_action = " ".join(["'self'", *g.get("form_action_sources", [])])
    ancestors = ancestors if ancestors is not None else frame_ancestors(req)
    return "; ".join([*BASE_POLICY, f"form-action {form_action}", f"frame-ancestors {ancestors}"])


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    ancestors = frame_ancestors(request)
    headers["Content-Security-Policy"] = content_security_policy(request, ancestors)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = REFERRER_POLICY
    if ancestors == "'none'":
        headers["X-Frame-Options"] = "DENY"
    else:
        headers.pop("X-Frame-Options", None)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
