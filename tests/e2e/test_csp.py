"""The pages work in Chromium under the Content-Security-Policy, which it never reports.

Chromium writes every blocked script, style, form post or frame to the console
("Refused to … because it violates the following Content Security Policy directive"),
so each test collects the console across navigations and expects none of those lines.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from service.lti.launch import DL_SETTINGS
from service.models import LtiPlatform
from tests.e2e.test_browser import DESKTOP, INSTRUCTOR, STUDENT, _fill, _log_in, _stored_variant
from tests.integration.stack import Stack
from tests.lti.conftest import Tool, platform, tool  # noqa: F401  (fixtures)
from tests.lti.platform import INSTRUCTOR as LMS_INSTRUCTOR
from tests.lti.platform import Platform
from tests.lti.test_deep_linking_and_roster import _course_with_assignment

pytestmark = pytest.mark.e2e


def _watched_page(context: BrowserContext) -> tuple[Page, list[str]]:
    """A page and the CSP complaints Chromium logs on it (any page it navigates to)."""
    page = context.new_page()
    complaints: list[str] = []
    _watch(page, complaints)
    return page, complaints


def _watch(page: Page, complaints: list[str]) -> None:
    """Add the CSP complaints Chromium logs on ``page`` to ``complaints`` from now on."""
    page.on(
        "console",
        lambda message: (
            complaints.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )


def _start_deep_linking(
    page: Page,
    tool: Tool,  # noqa: F811
    platform: Platform,  # noqa: F811
    **settings: Any,
) -> None:
    """The platform's instructor starts Deep Linking in ``page``, with the platform's
    settings changed by ``settings``; the page posts the platform's auto-post form."""
    hint = platform.prepare(
        sub="prof-1",
        roles=[LMS_INSTRUCTOR],
        email="prof@uni.edu",
        message_type="LtiDeepLinkingRequest",
    )
    platform.prepared[hint].claims[DL_SETTINGS].update(settings)
    page.goto(f"{tool.base_url}/lti/login?{urlencode(platform.login_params(tool.base_url, hint))}")
    assert page.url.startswith(f"{platform.base_url}/auth")  # the platform's auto-post form
    page.evaluate("document.forms[0].submit()")


def _open_picker(
    context: BrowserContext,
    tool: Tool,  # noqa: F811
    platform: Platform,  # noqa: F811
    **settings: Any,
) -> tuple[Page, list[str]]:
    """A watched page (see ``_watched_page``) on the Deep Linking picker, started as
    ``_start_deep_linking`` does."""
    page, complaints = _watched_page(context)
    with page.expect_navigation(url=re.compile(r"/lti/deep-link/")):
        _start_deep_linking(page, tool, platform, **settings)
    return page, complaints


def test_problem_page_submits_and_shows_feedback_under_the_csp(browser, stack: Stack):
    context = browser.new_context(viewport=DESKTOP)
    page, complaints = _watched_page(context)
    _log_in(page, stack, STUDENT)
    response = page.goto(f"{stack.base_url}/items/1")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    # named by what it shows (issue 13), e.g. "Scatter plot of ReproductiveEffort against …"
    expect(
        page.get_by_role("img", name=re.compile(r"^Scatter plot of \w+ against"))
    ).to_be_visible()

    content = _stored_variant(stack, STUDENT)
    _fill(page, {p["id"]: p["answer"] for p in content["parts"]}, content["parts"])
    page.get_by_role("button", name=re.compile("Submit")).click()
    # "Graded." is written only by problem.js, after polling the status URL: the script ran.
    expect(page.locator("#grading-status")).to_have_text(re.compile("^Graded"), timeout=30_000)
    expect(page.locator("#total")).to_contain_text("Attempt 1")
    expect(page.locator(".feedback .verdict").first).to_have_text("correct")
    assert page.url == f"{stack.base_url}/items/1"  # no page load: the fetch path ran
    assert complaints == []

    # A plot that cannot be loaded is hidden by problem.js (it was an inline onerror).
    page.route("**/plot.png", lambda route: route.fulfill(status=404, body=""))
    page.reload()
    expect(page.locator("figure.plot")).to_be_hidden()
    assert complaints == []
    context.close()

    teacher = browser.new_context(viewport=DESKTOP)
    page, complaints = _watched_page(teacher)
    _log_in(page, stack, INSTRUCTOR)
    page.goto(f"{stack.base_url}/teach/items/1/analytics")
    bar = page.get_by_role("img", name="100 percent").first
    expect(bar).to_be_visible()
    assert bar.locator("rect").get_attribute("width") == "100.0"
    assert complaints == []
    teacher.close()


def test_deep_linking_posts_back_to_the_lms_under_the_csp(
    browser,
    tool: Tool,  # noqa: F811
    platform: Platform,  # noqa: F811
    db_session,
):
    """Launch → picker → the return page's static script posts the JWT to the platform:
    form-action admits the platform's return URL for that page only."""
    _course_with_assignment(db_session)
    # The local instructor's own account places their assignment: linking by email is
    # turned on for this platform (it is off by default; issue 12).
    db_session.scalar(select(LtiPlatform)).link_by_email = True
    db_session.commit()
    context = browser.new_context(viewport=DESKTOP)
    page, complaints = _open_picker(context, tool, platform)
    page.get_by_label(re.compile("Week 1: reading lm output")).check()
    with page.expect_navigation(url=f"{platform.base_url}/deep_link_return"):
        page.get_by_role("button", name="Place it in the LMS").click()
    expect(page.locator("body")).to_have_text("placed")
    assert len(platform.deep_link_responses) == 1
    assert complaints == []
    context.close()
