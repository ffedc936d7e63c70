"""Security headers on every response, and markup that needs no inline script or style."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import jwt
import pytest
from flask import Flask, request, session, url_for
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.routing import Rule

from service import cookies, security_headers
from service.lti import platforms
from service.models import LtiPlatform
from service.services import tokens, variants
from tests.conftest import csrf_token as csrf_from
from tests.service.web_world import PASSWORD, World, as_user, build_world

SERVICE = Path(__file__).resolve().parents[2] / "service"
#: The pages an LMS opens in its own frame, framable by the registered platforms even
#: without an LTI session. Written out here so a change to the rule is a visible one.
FRAMED_BY_LMS = {"lti.login", "lti.launch_view", "lti.launch_continue", "lti.deep_link"}
#: Two registered LMSs: their origins (issuer, login URL, admin extras) are what may frame.
MOODLE = {
    "issuer": "https://moodle.uni.edu",
    "client_id": "moodle-client",
    "auth_login_url": "https://moodle.uni.edu/mod/lti/auth.php",
    "auth_token_url": "https://moodle.uni.edu/mod/lti/token.php",
    "jwks_url": "https://moodle.uni.edu/mod/lti/certs.php",
    "deployment_ids": ["1"],
}
MOODLE_ORIGINS = "https://moodle.uni.edu"
CANVAS = {
    "issuer": "https://canvas.instructure.com",
    "client_id": "10000000000001",
    "auth_login_url": "https://sso.canvaslms.com/api/lti/authorize_redirect",
    "auth_token_url": "https://sso.canvaslms.com/login/oauth2/token",
    "jwks_url": "https://sso.canvaslms.com/api/lti/security/jwks",
    "deployment_ids": ["7:abc"],
    "web_origins": ["https://school.instructure.com:443/courses"],
}
CANVAS_ORIGINS = (
    "https://canvas.instructure.com https://sso.canvaslms.com https://school.instructure.com"
)


def _directives(policy: str) -> dict[str, str]:
    out = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        assert name not in out, f"{name} twice in {policy!r}"
        out[name] = value.strip()
    return out


def assert_protected(response, what: str, framers: str = "'none'") -> None:
    """Every security header is there, and only ``framers`` (CSP sources) may frame it."""
    headers = response.headers
    policy = headers.get("Content-Security-Policy")
    assert policy, f"{what}: no Content-Security-Policy"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, what
    csp = _directives(policy)
    assert csp["default-src"] == "'self'", what
    assert csp["script-src"] == "'self'", what
    assert csp["style-src"] == "'self'", what
    assert csp["object-src"] == "'none'", what
    assert csp["base-uri"] == "'none'", what
    assert csp["form-action"] == "'self'", what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", what
    assert csp.get("frame-ancestors") == framers, what
    if framers == "'none'":
        assert headers.get("X-Frame-Options") == "DENY", what
    else:  # it cannot list origins, and DENY would override the CSP in old browsers
        assert "X-Frame-Options" not in headers, what


@pytest.fixture
def lms(db_session) -> dict[str, LtiPlatform]:
    return {
        "moodle": platforms.register(db_session, name="Moodle", **MOODLE),
        "canvas": platforms.register(db_session, name="Canvas", **CANVAS),
    }


def _open_lti_window(client: FlaskClient, platform: LtiPlatform) -> None:
    """What an LTI launch from ``platform`` leaves in the session (launch_view marks it)."""
    with client.session_transaction() as session:
        session[cookies.LTI_WINDOW] = platform.id


@pytest.fixture
def world(db_session) -> World:
    return build_world(db_session)


@pytest.fixture
def variant_id(db_session, settings, world: World) -> int:
    """Alice's variant of the assignment's problem (her downloads and plot)."""
    return variants.ensure(db_session, settings.seed_key, world.users["alice"], world.item).id


def _url(app: Flask, rule: Rule, world: World, variant_id: int) -> str:
    ids = {
        "course_id": world.course.id,
        "item_id": world.item.id,
        "assignment_id": world.assignment.id,
        "problem_id": world.problem.id,
        "variant_id": variant_id,
    }
    words = {"name": "data.csv", "filename": "mixgrade.css", "key": "no-such-placement"}
    values = {arg: ids.get(arg, words.get(arg, 1)) for arg in rule.arguments}
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


@pytest.mark.parametrize("who", [None, "alice", "teacher", "alice from Canvas"])
def test_every_route_carries_the_security_headers(
    app: Flask,
    client: FlaskClient,
    db_session,
    world: World,
    variant_id: int,
    lms: dict[str, LtiPlatform],
    who: str | None,
):
    """Each rule of the URL map, as nobody, a student, an instructor and a student whose
    session a Canvas launch opened: GET where the rule allows it, else POST (which CSRF or a
    missing token refuses: an error page, also checked). The API gets the user's bearer
    token, the pages their session. Only the LTI endpoints may be framed by the LMSs,
    except in the Canvas window, where every page may be framed by Canvas and only by it.
    """
    api_headers = {}
    user = who.split()[0] if who else None
    if user:
        as_user(client, user)
        secret = tokens.create(db_session, world.users[user], name="headers test")[1]
        api_headers["Authorization"] = f"Bearer {secret}"
    if who == "alice from Canvas":
        _open_lti_window(client, lms["canvas"])
    statuses: set[int] = set()
    for rule in app.url_map.iter_rules():
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        url = _url(app, rule, world, variant_id)
        response = client.open(url, method=method, headers=api_headers if "/api/" in url else {})
        statuses.add(response.status_code)
        if who == "alice from Canvas":
            framers = CANVAS_ORIGINS
        elif rule.endpoint in FRAMED_BY_LMS:
            framers = f"{MOODLE_ORIGINS} {CANVAS_ORIGINS}"
        else:
            framers = "'none'"
        what = f"{method} {url} as {who}: {response.status}"
        assert_protected(response, what, framers)
    assert {200, 400} <= statuses, statuses
    assert 302 in statuses or who, statuses  # nobody is sent to the login page


def test_downloads_static_files_and_errors_carry_them(client: FlaskClient, variant_id: int):
    as_user(client, "alice")
    download = client.get(f"/variants/{variant_id}/files/data.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert_protected(download, "download")
    static = client.get("/static/problem.js")
    assert static.status_code == 200
    assert_protected(static, "static file")
    for url, status in [("/no/such/page", 404), ("/api/v1/no-such", 404), ("/items/1/submit", 400)]:
        response = client.open(url, method="POST" if status == 400 else "GET")
        assert response.status_code == status, url
        assert_protected(response, url)
    problem = client.get("/api/v1/me")
    assert problem.status_code == 401 and problem.mimetype == "application/problem+json"
    assert_protected(problem, "API problem")


def test_an_unexpected_error_carries_them(settings, client: FlaskClient):
    app = client.application
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    response = client.get("/boom")
    assert response.status_code == 500
    assert_protected(response, "500 page")


def test_a_form_may_post_to_one_named_http_origin_only(app: Flask):
    cases = {
        "https://lms.example.edu/deep_link/return?x=1": "https://lms.example.edu",
        "http://127.0.0.1:8123/return": "http://127.0.0.1:8123",
        "https://[2001:DB8::1]:8443/r": "https://[2001:db8::1]:8443",
        "HTTPS://LMS.Example.EDU/r": "https://lms.example.edu",
        "javascript:alert(1)": None,
        "data:text/html,x": None,
        "//lms.example.edu/r": None,
        "https://lms.example.edu;script-src *": None,
        "https://lms.example.edu:99999/r": None,
        "https://a b.example/r": None,
    }
    for url, source in cases.items():
        with app.test_request_context("/lti/deep-link/k", method="POST"):
            security_headers.allow_form_action(url)
            policy = _directives(security_headers.content_security_policy(request))
            expected = "'self'" if source is None else f"'self' {source}"
            assert policy["form-action"] == expected, url


# ------------------------------------------------------------------ framing by an LMS


def test_a_login_or_launch_may_be_framed_by_the_platform_it_names(
    client: FlaskClient, lms: dict[str, LtiPlatform]
):
    """Before a session exists, the request says which LMS frames it; failing that, any
    registered one may, so that a refused launch shows its message inside the LMS."""
    both = f"{MOODLE_ORIGINS} {CANVAS_ORIGINS}"
    named = {"iss": MOODLE["issuer"], "client_id": MOODLE["client_id"], "login_hint": "u-1"}
    login = client.get("/lti/login", query_string=named)
    assert login.status_code < 400, login.get_data(as_text=True)
    assert_protected(login, "Moodle's login initiation", MOODLE_ORIGINS)
    posted = client.post("/lti/login", data={**named, "iss": CANVAS["issuer"], "client_id": ""})
    assert_protected(posted, "Canvas's login initiation (a POST)", CANVAS_ORIGINS)
    stranger = client.get("/lti/login", query_string={**named, "iss": "https://lms.other.edu"})
    assert stranger.status_code == 403
    assert_protected(stranger, "an unregistered issuer's login", both)
    wrong_client = client.get("/lti/login", query_string={**named, "client_id": "nobody"})
    assert_protected(wrong_client, "Moodle's issuer with another client id", both)

    # A launch names its platform in the id_token, read unverified only to pick the framer.
    forged = jwt.encode(
        {"iss": CANVAS["issuer"], "aud": [CANVAS["client_id"]]}, "not-canvas's-key" * 4
    )
    refused = client.post("/lti/launch", data={"id_token": forged, "state": "never-issued"})
    assert 400 <= refused.status_code < 500
    assert_protected(refused, "a refused Canvas launch", CANVAS_ORIGINS)
    for token in ("not-a-jwt", ""):
        refused = client.post("/lti/launch", data={"id_token": token, "state": "x"})
        assert 400 <= refused.status_code < 500
        assert_protected(refused, f"a launch with id_token {token!r}", both)


def test_no_registered_platform_means_nobody_may_frame(client: FlaskClient):
    login = client.get("/lti/login", query_string={"iss": "https://lms.edu", "login_hint": "u"})
    assert login.status_code == 403
    assert_protected(login, "a login with no platform registered")


def test_a_password_login_or_logout_ends_the_lti_window(
    client: FlaskClient, world: World, lms: dict[str, LtiPlatform]
):
    course_page = f"/courses/{world.course.id}"
    as_user(client, "alice")
    assert_protected(client.get(course_page), "a password login's page")
    _open_lti_window(client, lms["moodle"])
    page = client.get(course_page)
    assert page.status_code == 200
    assert_protected(page, "the course page in a Moodle window", MOODLE_ORIGINS)

    as_user(client, "alice")  # the same person logs in with a password, in their own tab
    assert_protected(client.get(course_page), "the course page after a password login")

    _open_lti_window(client, lms["moodle"])
    token = csrf_from(client.get(course_page).get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert_protected(client.get("/login"), "the login page after logout")


def _session_cookie(response) -> dict[str, str]:
    """The attributes of the session cookie this response sets (lower-case names)."""
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    attributes = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


def test_the_session_cookie_is_cross_site_only_for_an_lti_window_over_https(
    client: FlaskClient, world: World, lms: dict[str, LtiPlatform]
):
    https = {"base_url": "https://localhost", "headers": {"Referer": "https://localhost/login"}}
    _open_lti_window(client, lms["canvas"])
    page = client.get("/login", **https)  # its CSRF token is written into the session
    cookie = _session_cookie(page)
    assert cookie["samesite"] == "None"
    assert {"secure", "partitioned", "httponly"} <= cookie.keys()

    token = csrf_from(page.get_data(as_text=True))
    data = {"email": "alice@example.edu", "password": PASSWORD, "csrf_token": token}
    logged_in = client.post("/login", data=data, **https)
    assert logged_in.status_code == 302
    cookie = _session_cookie(logged_in)
    assert cookie["samesite"] == "Lax" and "secure" in cookie and "partitioned" not in cookie


def test_over_plain_http_an_lti_window_cookie_stays_lax(
    client: FlaskClient, lms: dict[str, LtiPlatform]
):
    """Browsers drop SameSite=None without Secure, which plain HTTP cannot have."""
    _open_lti_window(client, lms["canvas"])
    cookie = _session_cookie(client.get("/login"))
    assert cookie["samesite"] == "Lax"
    assert "secure" not in cookie and "partitioned" not in cookie


def test_framing_costs_one_query_at_most_and_only_where_framing_is_possible(
    app: Flask, world: World, lms: dict[str, LtiPlatform]
):
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    def framing(path: str, window: LtiPlatform | None = None, method: str = "GET"):
        statements.clear()
        with app.test_request_context(path, method=method):
            if window is not None:
                session[cookies.LTI_WINDOW] = window.id
            value = security_headers.frame_ancestors(request)
        return value, len(statements)

    engine = app.extensions["mixgrade.engine"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        course = f"/courses/{world.course.id}"
        assert framing(course) == ("'none'", 0)
        assert framing("/static/problem.js") == ("'none'", 0)
        assert framing(course, lms["canvas"]) == (CANVAS_ORIGINS, 1)
        moodle_login = f"/lti/login?iss={MOODLE['issuer']}&login_hint=u"
        assert framing(moodle_login) == (MOODLE_ORIGINS, 1)
        assert framing("/lti/deep-link/k", lms["moodle"], "POST") == (MOODLE_ORIGINS, 1)
    finally:
        event.remove(engine, "before_cursor_execute", record)


# ------------------------------------------------------------------ markup under the CSP


class _InlineFinder(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        where = f"line {self.getpos()[0]}: <{tag}>"
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{where} event handler {name}=")
            if name == "style":
                self.found.append(f"{where} inline style attribute")
            if value and re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith("javascript:"):
                self.found.append(f"{where} javascript: URL in {name}")
        self._in_script = tag == "script" and not dict(attrs).get("src")
        if tag == "style":
            self.found.append(f"{where} inline <style>")

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append(f"line {self.getpos()[0]}: inline <script> content")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def inline_code(text: str) -> list[str]:
    """What in this template would break under the CSP; Jinja tags are blanked first so
    ``{% if x %}checked{% endif %}`` reads as an attribute and ``{{ x }}`` as a value."""
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    text = re.sub(r"\{%.*?%\}", " ", text, flags=re.S)
    text = re.sub(r"\{\{.*?\}\}", "x", text, flags=re.S)
    finder = _InlineFinder()
    finder.feed(text)
    finder.close()
    return finder.found


def test_the_checker_sees_what_the_csp_blocks():
    page = """<a href=" JavaScript:go()">x</a><img src=x onerror="boom()">
    <p style="color: red">{% if a %}on{% endif %}</p><script>alert(1)</script>
    <script src="{{ url_for('static', filename='a.js') }}"></script><style>p{}</style>"""
    found = inline_code(page)
    assert len(found) == 5, found


def test_templates_and_static_html_have_no_inline_script_handler_or_style():
    pages = sorted((SERVICE / "templates").rglob("*.html")) + sorted(
        (SERVICE / "static").rglob("*.html")
    )
    assert len(pages) > 10
    problems = {
        str(p.relative_to(SERVICE)): found
        for p in pages
        if (found := inline_code(p.read_text(encoding="utf-8")))
    }
    assert problems == {}
