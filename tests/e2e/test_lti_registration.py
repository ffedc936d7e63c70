"""LTI Dynamic Registration in Chromium: the LMS's page opens our registration, the admin
confirms, and our last page's static script tells the LMS to close it (under our CSP)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from service.models import LtiPlatform, Role, User
from service.passwords import hash_password
from tests.e2e.test_browser import DESKTOP
from tests.e2e.test_csp import _watched_page
from tests.lti.conftest import Tool, tool  # noqa: F401  (fixture)
from tests.lti.platform import Platform

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"


@pytest.fixture
def lms() -> Iterator[Platform]:
    platform = Platform().start()
    yield platform
    platform.stop()


def test_the_lms_window_hears_the_close_message_after_the_admin_confirms(
    browser,
    tool: Tool,  # noqa: F811
    lms: Platform,
    db_session,
):
    db_session.add(User(email="root@x.test", name="Root", role=Role.admin,
                        password_hash=hash_password(PASSWORD)))  # fmt: skip
    db_session.commit()
    context = browser.new_context(viewport=DESKTOP)
    page, complaints = _watched_page(context)
    page.goto(f"{tool.base_url}/login")
    page.get_by_label("Email").fill("root@x.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)

    page.goto(lms.admin_page(tool.base_url))
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Register the tool").click()
    popup = opened.value
    popup.on("console", lambda m: complaints.append(m.text) if "Content Security" in m.text else 0)
    expect(popup.get_by_role("heading", name="Register this LMS with mixgrade?")).to_be_visible()
    popup.get_by_role("button", name="Register mixgrade with this LMS").click()
    expect(popup.get_by_role("heading", name="Registered")).to_be_visible()
    expect(page.locator("#status")).to_have_text(f"closed by {tool.base_url}")

    db_session.expire_all()
    platform = db_session.scalar(select(LtiPlatform))
    assert platform is not None and platform.client_id == lms.client_id
    assert complaints == []
    context.close()
