"""Deep Linking in Chromium: several picks, the window target, Cancel, and no script URL.

The picker's form is posted by the browser (its `required` radios, `formnovalidate` on
Cancel), and the return page's static script posts the JWT to the platform.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.e2e.audit import page_problems
from tests.e2e.test_browser import DESKTOP
from tests.e2e.test_csp import _open_picker, _start_deep_linking
from tests.lti.conftest import Tool, platform, tool  # noqa: F401  (fixtures)
from tests.lti.platform import Platform
from tests.lti.test_deep_linking_spec import bank  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"


@pytest.fixture
def context(browser) -> Iterator[BrowserContext]:
    """A desktop-sized browser context, closed after the test even when it fails."""
    context = browser.new_context(viewport=DESKTOP)
    yield context
    context.close()


def test_several_assignments_open_in_a_window(
    context: BrowserContext,
    tool: Tool,  # noqa: F811
    platform: Platform,  # noqa: F811
    bank,  # noqa: F811
):
    page, complaints = _open_picker(context, tool, platform, accept_multiple=True)
    assert page_problems(page) == []  # the picker (lti/deep_link.html)
    page.get_by_label(re.compile("Week 1: reading lm output")).check()
    page.get_by_label(re.compile("Week 2: GLM output")).check()
    page.get_by_label("in a new window").check()
    with page.expect_navigation(url=f"{platform.base_url}/deep_link_return"):
        page.get_by_role("button", name="Place it in the LMS").click()
    expect(page.locator("body")).to_have_text("placed")
    [claims] = platform.deep_link_responses
    items = claims[DL + "content_items"]
    assert [i["title"] for i in items] == ["Week 1: reading lm output", "Week 2: GLM output"]
    assert all(i["window"] == {"targetName": "mixgrade"} for i in items)
    assert complaints == []


def test_cancel_returns_to_the_lms_with_nothing_placed(
    context: BrowserContext,
    tool: Tool,  # noqa: F811
    platform: Platform,  # noqa: F811
    bank,  # noqa: F811
):
    page, complaints = _open_picker(context, tool, platform, accept_multiple=True)
    # Nothing ticked: Cancel still posts.
    with page.expect_navigation(url=f"{platform.base_url}/deep_link_return"):
        page.get_by_role("button", name="Cancel").click()
    [claims] = platform.deep_link_responses
    assert claims[DL + "content_items"] == []
    assert complaints == []


def test_a_script_return_url_never_runs(
    context: BrowserContext,
    tool: Tool,  # noqa: F811
    platform: Platform,  # noqa: F811
    bank,  # noqa: F811
):
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    with page.expect_navigation(url=f"{tool.base_url}/lti/launch"):
        _start_deep_linking(
            page, tool, platform, deep_link_return_url="javascript:alert(document.domain)"
        )
    expect(page.locator("body")).to_contain_text("must be an http(s) URL on the LMS")
    assert page.locator("form[data-autosubmit]").count() == 0
    assert dialogs == []
