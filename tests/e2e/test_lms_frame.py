"""mixgrade inside an LMS page, as Canvas and Moodle show it: a cross-site iframe over HTTPS.

The tool is the production web server (granian) over HTTPS with a throwaway certificate at
https://127.0.0.1:PORT; the simulated LMS serves its pages at http://localhost:PORT, another
site. Its course page frames the tool's login initiation URL, as an LMS does. Chromium runs
with third-party cookies blocked (what Chrome is moving to), so only a partitioned
(CHIPS) ``SameSite=None; Secure`` cookie survives in the frame: a ``Lax`` session cookie
would be dropped there and the launch would end on the password page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import pytest
from flask import request
from playwright.sync_api import Browser, BrowserContext, Frame, Page, Response, expect
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from service.models import Assignment
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.test_browser import DESKTOP, INSTRUCTOR, STUDENT, _fill, _log_in, _stored_variant
from tests.integration.stack import Stack, make_server_certificate, mixgrade, process_env
from tests.lti.platform import INSTRUCTOR as LMS_INSTRUCTOR
from tests.lti.platform import LEARNER, Platform, register_with_cli

pytestmark = pytest.mark.e2e

#: A page origin of the LMS beyond its issuer's (Canvas: the school's own host name).
EXTRA_ORIGIN = "https://lms-files.uni.example"
LMS_STUDENT_EMAIL = "lou.student@uni.example"
#: The top-level site a partitioned cookie set inside the LMS page is kept under.
LMS_SITE = "http://localhost"


@pytest.fixture(scope="module")
def frame_browser(browser) -> Iterator[Browser]:
    """Chromium that blocks third-party cookies: only partitioned ones live in a frame.

    Launched through the plain ``browser``'s Playwright, so a missing Chromium skips or
    fails these tests the same way as the other browser tests.
    """
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"]
    )
    yield chromium
    chromium.close()


@dataclass
class Setting:
    """The tool over HTTPS and the LMS on another site, registered with each other."""

    stack: Stack
    lms: Platform
    #: Every response the tool sent to the browser, by URL (the last one per URL).
    responses: dict[str, Response] = field(default_factory=dict)

    def new_page(self, context: BrowserContext) -> Page:
        """A page whose responses from the tool are kept (see ``responses``)."""
        page = context.new_page()
        page.on("response", self._keep)
        return page

    def frame_url(self, src: str) -> str:
        """The LMS page that shows ``src`` in its iframe."""
        return f"{self.lms.base_url}/frame?{urlencode({'src': src})}"

    def launch(self, context: BrowserContext, hint: str) -> tuple[Page, Frame]:
        """The LMS page frames the tool's login initiation; the platform's auto-post form
        (which has no script of its own) is sent, as the LMS's page script would."""
        login = urlencode(self.lms.login_params(self.stack.base_url, hint))
        page = self.new_page(context)
        page.goto(self.frame_url(f"{self.stack.base_url}/lti/login?{login}"))
        frame = page.frame(name="tool")
        assert frame is not None
        frame.wait_for_url(f"{self.lms.base_url}/auth?*")
        try:
            with frame.expect_navigation(url=re.compile(re.escape(self.stack.base_url))):
                frame.evaluate("document.forms[0].submit()")
        except PlaywrightError as error:  # e.g. our password page, which refuses framing
            seen = [f"{r.status} {url}" for url, r in self.responses.items()]
            raise AssertionError(
                f"the launch did not open in the frame ({error}): {seen}"
            ) from None
        return page, frame

    def _keep(self, response: Response) -> None:
        if response.url.startswith(self.stack.base_url):
            self.responses[response.url.split("?")[0]] = response


def _add_frame_page(lms: Platform) -> None:
    """The LMS's own page that shows a tool URL in an iframe, as a course page does."""

    @lms.app.get("/frame")
    def frame():  # type: ignore[no-untyped-def]
        src = html.escape(request.args["src"])
        return (
            "<!doctype html><title>Models 101 - LMS</title><h1>Models 101</h1>"
            f'<iframe name="tool" title="mixgrade" src="{src}" width="1100" height="800">'
            "</iframe>"
        )


@pytest.fixture
def setting(tmp_path, monkeypatch, frame_browser) -> Iterator[Setting]:
    certificate = make_server_certificate(tmp_path, "127.0.0.1")
    stack = Stack(env=process_env(tmp_path), log_dir=tmp_path, tls=certificate)
    # The simulated LMS runs in this process and fetches the tool's JWKS over HTTPS.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.ca))
    stack.prepare()
    lms = Platform()
    _add_frame_page(lms)
    lms.start()
    lms.base_url = lms.base_url.replace("//127.0.0.1:", "//localhost:")  # another site
    try:
        # The demo instructor's own account places the demo assignment: linked by email.
        register_with_cli(stack, lms, "--web-origin", EXTRA_ORIGIN, "--link-by-email")
        other = mixgrade(
            stack.env,
            "lti", "register",
            "--issuer", "https://other-lms.example", "--client-id", "other",
            "--login-url", "https://other-lms.example/auth",
            "--token-url", "https://other-lms.example/token",
            "--jwks-url", "https://other-lms.example/jwks", "--deployment", "d",
        )  # fmt: skip
        assert other.returncode == 0, other.stderr
        stack.start_worker("worker", "--concurrency=1")
        stack.start_production_web(workers=1)
        lms.tool_jwks_url = f"{stack.base_url}/lti/jwks"
        yield Setting(stack, lms)
    finally:
        stack.stop()
        lms.stop()


def _https_context(browser: Browser) -> BrowserContext:
    """The throwaway certificate is accepted; nothing else about HTTPS is relaxed."""
    return browser.new_context(viewport=DESKTOP, ignore_https_errors=True)


def _ancestors(response: Response) -> str:
    policy = response.headers["content-security-policy"]
    [value] = [d.strip() for d in policy.split(";") if d.strip().startswith("frame-ancestors ")]
    return value.removeprefix("frame-ancestors ")


def _session_cookie(context: BrowserContext, stack: Stack) -> tuple[str, bool, str | None]:
    """The session cookie's SameSite, Secure and partition key (CHIPS: the top-level site
    it is kept under, None when it is not partitioned)."""
    [cookie] = [c for c in context.cookies(stack.base_url) if c["name"] == "session"]
    return cookie["sameSite"], cookie["secure"], cookie.get("partitionKey")


def test_placing_then_doing_an_assignment_inside_the_lms_frame(
    frame_browser: Browser, setting: Setting
):
    stack, lms = setting.stack, setting.lms
    with stack.session() as session:
        assignment = session.scalar(select(Assignment).order_by(Assignment.id))
        title, first_item = assignment.title, assignment.assignment_problems[0].id
    own_origins = f"{lms.base_url} {EXTRA_ORIGIN}"  # not the other registered LMS's

    # The instructor opens the Deep Linking placement inside the LMS page and picks.
    teacher = _https_context(frame_browser)
    hint = lms.prepare(
        sub="lms-teacher",
        roles=[LMS_INSTRUCTOR],
        email=INSTRUCTOR,
        message_type="LtiDeepLinkingRequest",
    )
    page, frame = setting.launch(teacher, hint)
    frame.wait_for_url(re.compile(r"/lti/deep-link/"))
    picker = page.frame_locator('iframe[name="tool"]')
    expect(picker.get_by_role("button", name="Place it in the LMS")).to_be_visible()
    # Each step in the frame may be framed by this LMS's origins only: the login
    # initiation and the launch (before a session exists) and the picker.
    for step in ("/lti/login", "/lti/launch", urlsplit(frame.url).path):
        response = setting.responses[stack.base_url + step]
        assert _ancestors(response) == own_origins, step
        assert "x-frame-options" not in response.headers, step
    picker.get_by_label(re.compile(re.escape(title))).check()
    with frame.expect_navigation(url=f"{lms.base_url}/deep_link_return"):
        picker.get_by_role("button", name="Place it in the LMS").click()
    expect(picker.locator("body")).to_have_text("placed")
    [placed] = lms.deep_link_responses
    [item] = placed["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert _session_cookie(teacher, stack) == ("None", True, LMS_SITE)  # for this LMS only
    teacher.close()

    # A student launches the placed link in the frame, answers and sees the feedback there.
    student = _https_context(frame_browser)
    hint = lms.prepare(
        sub="lms-student",
        roles=[LEARNER],
        email=LMS_STUDENT_EMAIL,
        name="Lou Student",
        resource_link_id="placed-1",
        custom=item["custom"],
        lineitem=lms.lineitem_url(7),
    )
    page, frame = setting.launch(student, hint)
    frame.wait_for_url(re.compile(rf"/(courses/\d+|items/{first_item})$"))
    assert _ancestors(setting.responses[frame.url]) == own_origins
    frame.goto(f"{stack.base_url}/items/{first_item}")
    tool = page.frame_locator('iframe[name="tool"]')
    expect(
        tool.get_by_role("img", name=re.compile(r"^Scatter plot of \w+ against"))
    ).to_be_visible()
    assert _ancestors(setting.responses[frame.url]) == own_origins
    content = _stored_variant(stack, LMS_STUDENT_EMAIL)
    _fill(frame, {p["id"]: p["answer"] for p in content["parts"]}, content["parts"])  # type: ignore[arg-type]
    tool.get_by_role("button", name=re.compile("Submit")).click()
    expect(tool.locator("#grading-status")).to_have_text(re.compile("^Graded"), timeout=30_000)
    expect(tool.locator(".feedback .verdict").first).to_have_text("correct")
    assert frame.url == f"{stack.base_url}/items/{first_item}"
    assert _session_cookie(student, stack) == ("None", True, LMS_SITE)
    [score] = lms.wait_for_scores(1, timeout=45)
    assert score["userId"] == "lms-student" and score["lineitem"] == 7
    student.close()


def test_a_password_login_is_lax_and_its_pages_cannot_be_framed(
    frame_browser: Browser, setting: Setting
):
    stack = setting.stack
    context = _https_context(frame_browser)
    own_tab = context.new_page()
    _log_in(own_tab, stack, STUDENT)
    assert _session_cookie(context, stack) == ("Lax", True, None)

    page = setting.new_page(context)
    with page.expect_console_message(lambda m: "frame-ancestors 'none'" in m.text):
        page.goto(setting.frame_url(f"{stack.base_url}/"))
    expect(page.locator("h1")).to_have_text("Models 101")  # the LMS page itself is there
    tool = page.frame_locator('iframe[name="tool"]')
    expect(tool.get_by_role("heading", name="Your courses")).to_have_count(0)
    home = setting.responses[f"{stack.base_url}/"]
    assert _ancestors(home) == "'none'" and home.headers["x-frame-options"] == "DENY"
    # In its own tab the same session works, so it was the framing that was refused.
    own_tab.goto(f"{stack.base_url}/")
    expect(own_tab.get_by_role("heading", name="Your courses")).to_be_visible()
    context.close()
