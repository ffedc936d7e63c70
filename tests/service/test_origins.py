"""One origin rule for CSP sources and LMS pages; a platform's web origins come from it."""

from __future__ import annotations

import pytest

from service.lti import platforms
from service.origins import origin_of


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://LMS.example.edu/courses/1?x=2", "https://lms.example.edu"),
        ("https://lms.example.edu:443/a", "https://lms.example.edu"),
        ("http://127.0.0.1:8443/dl", "http://127.0.0.1:8443"),
        ("http://[::1]:81/", "http://[::1]:81"),
        ("javascript:alert(1)//https://lms.example.edu", None),
        ("data:text/html,hi", None),
        ("https://lms.example.edu;script-src *", None),
        ("https://[fe80::1%25eth0]/", None),
        ("https://lms.example.edu:99999/", None),
        ("", None),
        ("lms.example.edu", None),
    ],
)
def test_origin_of(url: str, origin: str | None) -> None:
    assert origin_of(url) == origin


def _register(db_session, **extra):
    return platforms.register(
        db_session,
        issuer="https://canvas.example.com",
        client_id="c1",
        auth_login_url="https://sso.example.com/api/lti/authorize_redirect",
        auth_token_url="https://sso.example.com/login/oauth2/token",
        jwks_url="https://sso.example.com/api/lti/security/jwks",
        deployment_ids=["d1"],
        **extra,
    )


def test_web_origins_are_issuer_login_and_the_extras(db_session) -> None:
    platform = _register(db_session, web_origins=["https://school.example.com/", " "])
    assert platforms.web_origins(platform) == [
        "https://canvas.example.com",
        "https://sso.example.com",
        "https://school.example.com",
    ]


def test_a_web_origin_that_is_not_http_is_refused(db_session) -> None:
    with pytest.raises(platforms.RegistrationError, match="web origin"):
        _register(db_session, web_origins=["javascript:alert(1)"])
