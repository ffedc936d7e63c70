"""The LTI launch in an LMS frame whose cookies Chromium does not keep (issue 12 §3).

The simulated LMS serves its pages from ``localhost`` and the tool runs on
``127.0.0.1``: another site, so Chromium neither stores the tool's SameSite=Lax login
cookie set inside the LMS frame nor sends it with the platform's cross-site POST. What
carries the login is the 1EdTech client-side OIDC storage: the LMS page's storage frame
answers ``lti.put_data`` / ``lti.get_data`` over postMessage.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import requests
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from service.lti import launch, platforms
from service.models import LtiIdentity, LtiLoginState
from tests.e2e.audit import axe_violations
from tests.e2e.test_browser import DESKTOP
from tests.lti.conftest import Tool, tool  # noqa: F401  (fixture)
from tests.lti.platform import LEARNER, STORAGE_FRAME, Platform, parse_form

pytestmark = pytest.mark.e2e


@pytest.fixture
def framing_lms(tool: Tool, db_session) -> Iterator[Platform]:  # noqa: F811
    """A platform on another site than the tool, whose auth answer posts itself."""
    lms = Platform(host="localhost", auto_post=True).start()
    lms.tool_jwks_url = f"{tool.base_url}/lti/jwks"
    platforms.register(db_session, name="Framing LMS", **lms.registration())
    yield lms
    lms.stop()


def _watched(context: BrowserContext) -> tuple[Page, list[str]]:
    page = context.new_page()
    complaints: list[str] = []
    page.on(
        "console",
        lambda m: complaints.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return page, complaints


def _course_page(lms: Platform, frame_url: str) -> str:
    return f"{lms.base_url}/course?{urlencode({'tool': frame_url})}"


def _storage_log(page: Page) -> list[dict[str, str]]:
    frame = page.frame(name=STORAGE_FRAME)
    assert frame is not None
    return frame.evaluate("window.ltiStorageLog")


def _identity(session, sub: str) -> LtiIdentity | None:
    session.expire_all()
    return session.scalar(select(LtiIdentity).where(LtiIdentity.subject == sub))


def test_a_framed_launch_without_cookies_succeeds_through_platform_storage(
    browser,
    tool: Tool,  # noqa: F811
    framing_lms: Platform,
    db_session,
):
    hint = framing_lms.prepare(sub="framed-student", roles=[LEARNER], name="Fran")
    login = f"{tool.base_url}/lti/login?" + urlencode(
        framing_lms.login_params(tool.base_url, hint, storage_target=STORAGE_FRAME)
    )
    context = browser.new_context(viewport=DESKTOP)
    page, complaints = _watched(context)
    with page.expect_response(re.compile(r"/lti/launch/continue$"), timeout=20_000) as done:
        page.goto(_course_page(framing_lms, login))
    continued = done.value
    # The student's link is not placed yet: the launch was accepted and says so, in the frame.
    assert continued.status == 404
    assert "session=" in (continued.header_value("set-cookie") or "")
    frame = page.frame_locator('iframe[name="tool"]')
    expect(frame.locator("main")).to_contain_text("not set up yet")

    # No cookie carried it: Chromium kept none from the frame.
    names = {c["name"] for c in context.cookies()}
    assert not any(n.startswith(launch.LOGIN_COOKIE_PREFIX) for n in names), names
    identity = _identity(db_session, "framed-student")
    assert identity is not None and identity.user.name == "Fran"
    assert db_session.scalars(select(LtiLoginState.used_at)).one() is not None

    log = _storage_log(page)
    assert [(m["subject"], m["key"].split("_")[0]) for m in log] == [
        ("lti.put_data", "state"),
        ("lti.put_data", "nonce"),
        ("lti.get_data", "state"),
    ]
    assert {m["origin"] for m in log} == {tool.base_url}
    assert complaints == []
    context.close()


def _attackers_pair(tool: Tool, lms: Platform, sub: str) -> tuple[str, dict[str, str]]:  # noqa: F811
    """What an attacker gets from a storage login of their own: the launch form."""
    own = requests.Session()
    hint = lms.prepare(sub=sub, roles=[LEARNER])
    page = own.get(
        f"{tool.base_url}/lti/login",
        params=lms.login_params(tool.base_url, hint, storage_target=STORAGE_FRAME),
    )
    import html

    auth = html.unescape(re.search(r'data-next="([^"]+)"', page.text).group(1))
    return parse_form(own.get(auth).text)


def _forged(lms: Platform, action: str, fields: dict[str, str]) -> str:
    """The URL of another site's page that posts these fields to ``action`` at once."""
    return f"{lms.base_url}/forged?" + urlencode({"action": action, "fields": json.dumps(fields)})


def test_another_browsers_pair_fails_the_storage_check(
    browser,
    tool: Tool,  # noqa: F811
    framing_lms: Platform,
    db_session,
):
    """The victim's own LMS page frames a post of the attacker's (id_token, state): the
    victim's platform storage never held that state, so the check page stops."""
    action, fields = _attackers_pair(tool, framing_lms, "mallory")
    context = browser.new_context(viewport=DESKTOP)
    page, complaints = _watched(context)
    continued: list[str] = []
    page.on("request", lambda r: continued.append(r.url) if "/continue" in r.url else None)
    page.goto(_course_page(framing_lms, _forged(framing_lms, action, fields)))
    frame = page.frame_locator('iframe[name="tool"]')
    expect(frame.locator("#lti-storage-failed")).to_be_visible(timeout=20_000)
    expect(frame.locator("#lti-storage-failed")).to_contain_text("did not start in this browser")
    tool_frame = page.frame(name="tool")
    assert tool_frame is not None and axe_violations(tool_frame) == []  # lti/launch_check.html
    assert continued == []
    assert _identity(db_session, "mallory") is None
    assert db_session.scalars(select(LtiLoginState.used_at)).one() is None
    assert complaints == []
    context.close()


def test_a_forged_continuation_is_refused(
    browser,
    tool: Tool,  # noqa: F811
    framing_lms: Platform,
    db_session,
):
    """The attacker obtains a continuation token by posting their own pair, and has the
    victim's browser post it from another site: not our page, so refused, nobody in."""
    action, fields = _attackers_pair(tool, framing_lms, "mallory")
    check = requests.post(action, data=fields, allow_redirects=False)
    assert check.status_code == 200 and 'data-step="get"' in check.text
    continue_path, hidden = parse_form(check.text)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    url = f"{tool.base_url}{continue_path}"
    with page.expect_response(url) as done:
        page.goto(_forged(framing_lms, url, hidden))
    assert done.value.status == 403
    expect(page.locator("main")).to_contain_text("not sent by the mixgrade page")
    assert not any(c["name"] == "session" for c in context.cookies())
    assert _identity(db_session, "mallory") is None
    assert db_session.scalars(select(LtiLoginState.used_at)).one() is None
    context.close()
