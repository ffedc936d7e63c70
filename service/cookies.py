"""Cookie attributes: Secure whenever the request came over HTTPS, cross-site where an LMS needs it.

Flask decides the Secure flag from static config; mixgrade is served over plain HTTP by
`make run` and over HTTPS in production, so the flag follows the request instead. Behind a
TLS-terminating proxy, set MIXGRADE_TRUSTED_PROXIES so X-Forwarded-Proto is believed.

An LMS shows a tool inside an iframe on its own site, and a browser neither stores nor
sends a ``SameSite=Lax`` cookie there. :func:`cross_site_attributes` is the one rule for
cookies that must work in that iframe; it serves the cookies set with
:func:`set_cross_site_cookie` and the session cookie of an *LTI window*, a session that an
LTI launch started (:func:`start_lti_window`). Every other session cookie (a password
login in the browser's own tab) stays ``SameSite=Lax``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import user_logged_in, user_logged_out
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse

#: The session key naming the platform (LtiPlatform.id) whose launch opened this session.
LTI_WINDOW = "lti_window"


@dataclass(frozen=True)
class CookieAttributes:
    samesite: str
    secure: bool
    partitioned: bool


def cross_site_attributes() -> CookieAttributes:
    """How a cookie that must work inside another site's iframe is set, for this request.

    Over HTTPS: ``SameSite=None; Secure; Partitioned``, so a cross-site POST carries it and
    browsers that partition third-party cookies (CHIPS) keep it, per top-level site.
    Over plain HTTP (``make run``, tests on 127.0.0.1) a browser refuses SameSite=None
    without Secure, so it is ``Lax``: enough when the LMS is the same site.
    """
    if request.is_secure:
        return CookieAttributes(samesite="None", secure=True, partitioned=True)
    return CookieAttributes(samesite="Lax", secure=False, partitioned=False)


def set_cross_site_cookie(
    response: BaseResponse, name: str, value: str, *, max_age: int, path: str = "/"
) -> None:
    """Set a cookie that must reach us inside another site's iframe (an LMS page)."""
    attributes = cross_site_attributes()
    response.set_cookie(
        name, value, max_age=max_age, path=path, httponly=True, secure=attributes.secure,
        samesite=attributes.samesite, partitioned=attributes.partitioned,
    )  # fmt: skip


# --------------------------------------------------------------- the LTI window session


def start_lti_window(platform_id: int) -> None:
    """Mark this session as opened by ``platform_id``'s LTI launch; call after login_user.

    Its cookie then works in the LMS iframe, and its pages may be framed by that
    platform (security_headers.frame_ancestors). Any later login or logout ends the mark
    (see :func:`init_app`), so a password login, even in the same browser, is Lax again.
    """
    session[LTI_WINDOW] = platform_id


def lti_window() -> int | None:
    """The platform whose LTI launch opened this session, or None for any other session."""
    value = session.get(LTI_WINDOW)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _end_lti_window(_sender: Any, **_extra: Any) -> None:
    session.pop(LTI_WINDOW, None)


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session; Secure follows the request, an LTI window is cross-site."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure

    def get_cookie_samesite(self, app: Flask) -> str | None:
        if lti_window() is not None:
            return cross_site_attributes().samesite
        return super().get_cookie_samesite(app)

    def get_cookie_partitioned(self, app: Flask) -> bool:
        if lti_window() is not None:
            return cross_site_attributes().partitioned
        return super().get_cookie_partitioned(app)


def init_app(app: Flask, trusted_proxies: int) -> None:
    app.session_interface = HttpsAwareSessionInterface()
    # Every login (a password, or a launch that marks itself again right after) and every
    # logout ends an LTI window: the mark never outlives the login that set it.
    user_logged_in.connect(_end_lti_window, app)
    user_logged_out.connect(_end_lti_window, app)
    if trusted_proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=trusted_proxies, x_proto=trusted_proxies, x_host=trusted_proxies
        )
