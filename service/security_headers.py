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

from flask import Flask, Request, Response, g, request

from service.origins import origin_of

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
#: initiation, the launch, and the Deep Linking picker with its auto-posting return page.
#: They carry no frame-ancestors directive and no X-Frame-Options for now; issue 12 lists
#: the registered platforms' origins here instead.
LTI_FRAMED_ENDPOINTS = frozenset({"lti.login", "lti.launch_view", "lti.deep_link"})

#: Without a cross-origin referrer path, an LMS sees where a user came from (the origin)
#: but never our URLs; "same-origin" would also blank the Origin header of the Deep
#: Linking return POST, which some platforms check.
REFERRER_POLICY = "strict-origin-when-cross-origin"


def frame_ancestors(req: Request) -> str | None:
    """The CSP frame-ancestors value for this request, or None for no framing rule.

    Every page is ``'none'`` (no site may frame it, so no click-jacking) except the LTI
    launch endpoints in :data:`LTI_FRAMED_ENDPOINTS` (/lti/login, /lti/launch and
    /lti/deep-link/<key>), which an LMS may open in an iframe and which get no rule yet.
    Everything else under /lti (JWKS, the platforms and LMS course admin pages) is
    ``'none'`` like the rest.

    Issue 12 extends this one function: return the registered platforms' origins (space
    separated CSP sources) for the LTI endpoints and for pages of a session that an LTI
    launch started, instead of None. The hook sends X-Frame-Options: DENY exactly when
    this returns ``'none'``, since X-Frame-Options cannot list origins.
    """
    if req.endpoint in LTI_FRAMED_ENDPOINTS:
        return None
    return "'none'"


def allow_form_action(url: str) -> None:
    """Let this response's page post a form to ``url``'s origin (http/https only).

    For the Deep Linking return page, which auto-posts to the platform. Anything that is
    not a plain http(s) origin (``javascript:``, a CSP-breaking character) adds nothing,
    so the form stays limited to our own origin.
    """
    source = origin_of(url)
    if source is not None:
        g.setdefault("form_action_sources", []).append(source)


def content_security_policy(req: Request) -> str:
    """The full policy for this request: the base, form targets and the framing rule."""
    form_action = " ".join(["'self'", *g.get("form_action_sources", [])])
    directives = [*BASE_POLICY, f"form-action {form_action}"]
    ancestors = frame_ancestors(req)
    if ancestors is not None:
        directives.append(f"frame-ancestors {ancestors}")
    return "; ".join(directives)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(request)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = REFERRER_POLICY
    if frame_ancestors(request) == "'none'":
        headers["X-Frame-Options"] = "DENY"
    else:
        headers.pop("X-Frame-Options", None)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
