"""Session cookies that are Secure whenever the request came over HTTPS.

Flask decides the Secure flag from static config; mixgrade is served over plain HTTP by
`make run` and over HTTPS in production, so the flag follows the request instead. Behind a
TLS-terminating proxy, set MIXGRADE_TRUSTED_PROXIES so X-Forwarded-Proto is believed.

Cookies an LMS iframe needs (an LTI launch arrives as a cross-site POST inside the LMS
page) are set with :func:`set_cross_site_cookie`, the one place that decides their
SameSite, Secure and Partitioned attributes.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def init_app(app: Flask, trusted_proxies: int) -> None:
    app.session_interface = HttpsAwareSessionInterface()
    if trusted_proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=trusted_proxies, x_proto=trusted_proxies, x_host=trusted_proxies
        )


def set_cross_site_cookie(
    response: Response, name: str, value: str, *, max_age: int, path: str = "/"
) -> None:
    """Set a cookie that must reach us inside another site's iframe (an LMS page).

    Over HTTPS: ``SameSite=None; Secure; Partitioned``, so a cross-site POST carries it and
    browsers that partition third-party cookies (CHIPS) keep it, per top-level site.
    Over plain HTTP (``make run``, tests on 127.0.0.1) a browser refuses SameSite=None
    without Secure, so it is ``Lax``: enough when the LMS is the same site.
    """
    if request.is_secure:
        response.set_cookie(
            name, value, max_age=max_age, path=path, secure=True, httponly=True,
            samesite="None", partitioned=True,
        )  # fmt: skip
    else:
        response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="Lax")
