"""LTI Dynamic Registration: the LMS opens /lti/register, a site admin confirms, it launches.

The browser is a requests session against the tool served over HTTP; the tool fetches the
simulated platform's OpenID configuration and posts its registration over real HTTP too.
The close message of the last page is tested in Chromium (tests/e2e/test_lti_registration.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import func, select

from service.lti import advantage, dynamic_registration, platforms
from service.models import LtiPlatform, Role, User
from service.passwords import hash_password
from tests.conftest import csrf_token
from tests.integration.stack import free_port
from tests.lti.conftest import Tool
from tests.lti.platform import (
    INSTRUCTOR,
    LINEITEM_SCOPE,
    ROSTER_SCOPE,
    SCORE_SCOPE,
    TOOL_CONFIGURATION,
    Platform,
    parse_form,
)

PASSWORD = "correct horse battery"


@pytest.fixture
def lms() -> Iterator[Platform]:
    """A platform that is not registered with the tool yet."""
    platform = Platform().start()
    yield platform
    platform.stop()


def _new_user(db_session, role: Role = Role.admin) -> str:
    """A new user of the tool with ``role`` and the password PASSWORD; their email."""
    email = f"{role.value}@tool.test"
    db_session.add(User(email=email, name=role.value, role=role,
                        password_hash=hash_password(PASSWORD)))  # fmt: skip
    db_session.commit()
    return email


def _browser(tool: Tool, db_session, role: Role = Role.admin) -> requests.Session:
    """A browser logged in to the tool as a new user with ``role``."""
    email = _new_user(db_session, role)
    browser = requests.Session()
    page = browser.get(f"{tool.base_url}/login", timeout=10)
    form = {"email": email, "password": PASSWORD, "csrf_token": csrf_token(page.text)}
    done = browser.post(f"{tool.base_url}/login", data=form, timeout=10, allow_redirects=False)
    assert done.status_code == 302, done.text
    return browser


def _confirm(tool: Tool, browser: requests.Session, page: requests.Response, **changes: str):
    """Press the confirmation page's button (with ``changes`` to its hidden fields)."""
    action, fields = _form(page)
    return browser.post(urljoin(tool.base_url, action), data={**fields, **changes}, timeout=30)


def _form(page: requests.Response) -> tuple[str, dict[str, str]]:
    """The registration form's action and hidden fields (not the header's logout form)."""
    return parse_form(page.text[page.text.index('<form id="register"') :])


def _platform_count(db_session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(LtiPlatform))


def test_admin_confirms_and_the_registered_platform_then_launches(tool, lms, db_session):
    browser = _browser(tool, db_session)
    page = browser.get(lms.registration_start(tool.base_url), timeout=30)
    assert page.status_code == 200, page.text
    assert lms.issuer in page.text and "simulated-lms" in page.text
    assert f"{tool.base_url}/lti/login" in page.text  # what will be registered, shown first
    assert _platform_count(db_session) == 0 and lms.registrations == []  # a GET writes nothing

    done = _confirm(tool, browser, page)
    assert done.status_code == 200, done.text
    assert "lti_registration_close.js" in done.text and "<script>" not in done.text
    assert lms.client_id.startswith("dyn-") and lms.client_id in done.text
    [sent] = lms.registrations
    assert sent["redirect_uris"] == [f"{tool.base_url}/lti/launch"]
    assert sent["jwks_uri"] == f"{tool.base_url}/lti/jwks"
    assert set(sent["scope"].split()) == {SCORE_SCOPE, LINEITEM_SCOPE, ROSTER_SCOPE}
    assert sent[TOOL_CONFIGURATION]["domain"] == tool.base_url.removeprefix("http://")

    db_session.expire_all()
    platform = db_session.scalar(select(LtiPlatform))
    assert (platform.issuer, platform.client_id) == (lms.issuer, lms.client_id)
    assert [d.deployment_id for d in platform.deployments] == [lms.deployment_id]
    assert platform.auth_login_url == f"{lms.base_url}/auth"
    assert platform.auth_token_url == f"{lms.base_url}/token"
    assert platform.jwks_url == f"{lms.base_url}/jwks"
    assert platform.name == f"simulated-lms 1.0 ({lms.issuer})"
    assert platforms.web_origins(platform) == [lms.base_url]

    # The platform launches with the client id and deployment it handed out…
    hint = lms.prepare(sub="dyn-teacher", roles=[INSTRUCTOR], email="t@lms.test", name="T")
    launched, _ = lms.launch(tool.base_url, hint)
    assert launched.status_code == 302, launched.text
    assert "/lti/courses/" in launched.headers["Location"]
    # …and takes our service-token assertions, checked against the JWKS URL we registered.
    assert advantage.access_token(db_session, platform, [SCORE_SCOPE])


def test_only_what_the_platform_supports_is_asked_for(lms):
    lms.openid_changes = {
        "scopes_supported": ["openid", SCORE_SCOPE],
        "https://purl.imsglobal.org/spec/lti-platform-configuration": {
            "product_family_code": "small-lms",
            "messages_supported": [{"type": "LtiResourceLinkRequest"}],
        },
        "authorization_server": f"{lms.base_url}/oauth",
    }
    config = dynamic_registration.discover(lms.openid_configuration_url)
    tool = {"login": "https://t.test/lti/login", "launch": "https://t.test/lti/launch",
            "jwks": "https://t.test/lti/jwks"}  # fmt: skip
    body = dynamic_registration.registration_request(config, tool)
    assert body["scope"] == SCORE_SCOPE
    assert [m["type"] for m in body[TOOL_CONFIGURATION]["messages"]] == ["LtiResourceLinkRequest"]
    assert config.authorization_server == f"{lms.base_url}/oauth"  # the token request's aud


@pytest.mark.parametrize(
    ("issuer", "url", "fits"),
    [
        ("https://lms.edu", "https://lms.edu/.well-known/openid-configuration", True),
        ("https://lms.edu/moodle", "https://lms.edu/moodle/mod/lti/openid-configuration.php", True),
        ("https://lms.edu/moodle/", "https://lms.edu/moodle/openid", True),
        ("https://lms.edu/moodle", "https://lms.edu/moodle2/openid", False),
        ("https://other.edu", "https://lms.edu/.well-known/openid-configuration", False),
        ("https://lms.edu:8443", "https://lms.edu/openid", False),
        ("http://lms.edu", "https://lms.edu/openid", False),
        ("https://lms.edu?tenant=1", "https://lms.edu/openid", False),
        ("https://lms.edu#x", "https://lms.edu/openid", False),
        ("lms.edu", "https://lms.edu/openid", False),
        (None, "https://lms.edu/openid", False),
    ],
)
def test_the_issuer_must_match_the_configuration_url(issuer, url, fits):
    if fits:
        assert dynamic_registration.check_issuer(issuer, url) == issuer
    else:
        with pytest.raises(dynamic_registration.RegistrationFailed) as refused:
            dynamic_registration.check_issuer(issuer, url)
        assert refused.value.status == 422


def _spoil_config(lms: Platform, case: str) -> str:
    """Spoil the platform's configuration one way; return the openid_configuration URL."""
    if case == "unreachable":
        return f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
    if case == "not json":
        lms.openid_body = "<html><body>Moodle is being upgraded</body></html>"
    elif case == "issuer of another host":
        lms.openid_changes = {"issuer": "https://canvas.instructure.com"}
    elif case == "issuer of another path":
        lms.openid_changes = {"issuer": f"{lms.base_url}/tenant-2"}
    elif case == "no registration endpoint":
        lms.openid_changes = {"registration_endpoint": None}
    elif case == "no jwks or token endpoint":
        lms.openid_changes = {"jwks_uri": None, "token_endpoint": None}
    elif case == "script endpoint":
        lms.openid_changes = {"authorization_endpoint": "javascript:alert(1)"}
    elif case == "not an object":
        lms.openid_body = "[1, 2]"
    return lms.openid_configuration_url


CONFIG_FAILURES = [
    ("unreachable", 502, "could not be reached"),
    ("not json", 502, "not JSON"),
    ("not an object", 502, "not an object"),
    ("issuer of another host", 422, "does not match where its configuration came from"),
    ("issuer of another path", 422, "does not match where its configuration came from"),
    ("no registration endpoint", 422, "lacks registration_endpoint"),
    ("no jwks or token endpoint", 422, "lacks token_endpoint, jwks_uri"),
    ("script endpoint", 422, "authorization_endpoint must be an http(s) URL"),
]


@pytest.mark.parametrize(
    ("case", "status", "message"), CONFIG_FAILURES, ids=[c[0] for c in CONFIG_FAILURES]
)
def test_a_bad_configuration_is_a_clear_page_and_registers_nothing(
    tool, lms, db_session, case, status, message
):
    browser = _browser(tool, db_session)
    url = _spoil_config(lms, case)
    page = browser.get(f"{tool.base_url}/lti/register", timeout=30,
                       params={"openid_configuration": url, "registration_token": "t"})  # fmt: skip
    assert page.status_code == status, page.text
    assert message in page.text and "Traceback" not in page.text
    # The confirmation cannot be forced past the check either.
    form = {"csrf_token": csrf_token(page.text), "openid_configuration": url}
    forced = browser.post(f"{tool.base_url}/lti/register", data=form, timeout=30)
    assert forced.status_code == status, forced.text
    assert _platform_count(db_session) == 0 and lms.registrations == []


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://lms.edu/openid", "lms.edu"])
def test_a_registration_url_that_is_not_http_is_refused(tool, db_session, url):
    browser = _browser(tool, db_session)
    page = browser.get(f"{tool.base_url}/lti/register", params={"openid_configuration": url},
                       timeout=10)  # fmt: skip
    assert page.status_code == 400 and "must be an http(s) URL" in page.text


def test_the_platform_refusing_is_a_502_that_says_what_it_said(tool, lms, db_session):
    browser = _browser(tool, db_session)
    page = browser.get(lms.registration_start(tool.base_url), timeout=30)
    lms.refuse_registration = (403, "This registration token was already used.")
    refused = _confirm(tool, browser, page)
    assert refused.status_code == 502
    assert "refused the registration (HTTP 403: This registration token was already used.)" in (
        refused.text
    )
    lms.refuse_registration = None
    wrong_token = _confirm(tool, browser, page, registration_token="forged")
    assert wrong_token.status_code == 502 and "HTTP 401" in wrong_token.text
    assert _platform_count(db_session) == 0 and lms.registrations == []
    assert _confirm(tool, browser, page).status_code == 200  # the right token still works
    assert _platform_count(db_session) == 1


def test_an_answer_without_json_or_deployment_is_a_502_and_records_nothing(tool, lms, db_session):
    browser = _browser(tool, db_session)
    page = browser.get(lms.registration_start(tool.base_url), timeout=30)
    lms.refuse_registration = (200, "<html>Thank you!</html>")
    not_json = _confirm(tool, browser, page)
    assert not_json.status_code == 502 and "not JSON" in not_json.text
    lms.refuse_registration, lms.omit_deployment_id = None, True
    no_deployment = _confirm(tool, browser, page)
    assert no_deployment.status_code == 502
    assert "but sent no usable deployment id" in no_deployment.text
    assert lms.client_id in no_deployment.text  # what the admin needs to register by hand
    assert _platform_count(db_session) == 0


def test_a_configuration_changed_after_the_admin_saw_it_is_not_registered(tool, lms, db_session):
    browser = _browser(tool, db_session)
    page = browser.get(lms.registration_start(tool.base_url), timeout=30)
    lms.openid_changes = {"jwks_uri": f"{lms.base_url}/other-keys"}
    changed = _confirm(tool, browser, page)
    assert changed.status_code == 409 and "changed since it was shown" in changed.text
    assert _platform_count(db_session) == 0 and lms.registrations == []


def test_only_a_logged_in_site_admin_can_register(tool, lms, db_session):
    start = lms.registration_start(tool.base_url)
    anonymous = requests.get(start, timeout=10, allow_redirects=False)
    assert anonymous.status_code == 401 and "Sign in" in anonymous.text
    assert 'target="_blank"' in anonymous.text and "/login?next=" in anonymous.text
    teacher = _browser(tool, db_session, Role.instructor)
    assert teacher.get(start, timeout=10).status_code == 403
    admin = _browser(tool, db_session)
    page = admin.get(start, timeout=30)
    _, fields = _form(page)
    no_csrf = admin.post(f"{tool.base_url}/lti/register", timeout=10,
                         data={k: v for k, v in fields.items() if k != "csrf_token"})  # fmt: skip
    assert no_csrf.status_code == 400
    assert _platform_count(db_session) == 0 and lms.registrations == []


def test_the_admin_page_gives_the_registration_url_to_paste_into_the_lms(tool, db_session):
    page = _browser(tool, db_session).get(f"{tool.base_url}/lti/platforms", timeout=10)
    assert f"<code>{tool.base_url}/lti/register</code>" in page.text


def test_opened_without_parameters_it_says_what_it_is_for(tool):
    page = requests.get(f"{tool.base_url}/lti/register", timeout=10)
    assert page.status_code == 400 and "Dynamic Registration URL" in page.text


def test_the_lms_that_opens_the_page_may_frame_it_and_no_one_else(tool, lms, db_session):
    """The LMS is not registered yet: only its configuration URL's origin names it."""
    start = lms.registration_start(tool.base_url)
    anonymous = requests.get(start, timeout=30)
    assert anonymous.status_code == 401  # in a cross-site frame there is no admin session
    policy = anonymous.headers["Content-Security-Policy"]
    assert f"frame-ancestors {lms.base_url}" in policy
    assert "X-Frame-Options" not in anonymous.headers
    shown = _browser(tool, db_session).get(start, timeout=30)
    assert f"frame-ancestors {lms.base_url}" in shown.headers["Content-Security-Policy"]
    hostile = requests.get(
        f"{tool.base_url}/lti/register?openid_configuration=javascript:alert(1)", timeout=10
    )
    assert "frame-ancestors 'none'" in hostile.headers["Content-Security-Policy"]
    assert hostile.headers["X-Frame-Options"] == "DENY"
