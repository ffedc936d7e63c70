"""Session cookies that are Secure whenever the request came over HTTPS.

Flask decides the Secure flag from static config; mixgrade is served over plain HTTP by
`make run` and over HTTPS in production, so the flag follows the request instead. Behind a
TLS-terminating proxy, set MIXGRADE_TRUSTED_PROXIES so X-Forwarded-Proto is believed.
"""

from __future__ import annotations

from flask import Flask, request
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
