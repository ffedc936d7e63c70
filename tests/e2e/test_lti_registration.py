"""LTI Dynamic Registration in Chromium: the LMS's page opens our registration, the admin
confirms, and our last page's static script tells the LMS to close it (under our CSP)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from service.models import LtiPlatform
from tests.e2e.audit import page_problems
from tests.e2e.test_browser import DESKTOP, _log_in_at
from tests.e2e.test_csp import _watch, _watched_page
from tests.lti.conftest import Tool, tool  # noqa: F401  (fixture)
from tests.lti.platform import Platform
from tests.lti.test_dynamic_registration import PASSWORD, _new_user, lms  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e


def test_the_lms_window_hears_the_close_message_after_the_admin_confirms(
    browser,
    tool: Tool,  # noqa: F811
    lms: Platform,  # noqa: F811
    db_session,
):
    admin = _new_user(db_session)
    context = browser.new_context(viewport=DESKTOP)
    page, complaints = _watched_page(context)
    _log_in_at(page, tool.base_url, admin, PASSWORD)

    page.goto(lms.admin_page(tool.base_url))
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Register the tool").click()
    popup = opened.value
    _watch(popup, complaints)
    expect(popup.get_by_role("heading", name="Register this LMS with mixgrade?")).to_be_visible()
    assert page_problems(popup) == []  # lti/register_confirm.html
    popup.get_by_role("button", name="Register mixgrade with this LMS").click()
    expect(popup.get_by_role("heading", name="Registered")).to_be_visible()
    assert page_problems(popup) == []  # lti/register_done.html
    expect(page.locator("#status")).to_have_text(f"closed by {tool.base_url}")

    db_session.expire_all()
    platform = db_session.scalar(select(LtiPlatform))
    assert platform is not None and platform.client_id == lms.client_id
    assert complaints == []
    context.close()
