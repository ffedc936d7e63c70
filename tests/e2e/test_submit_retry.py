"""The problem page's script and a lost reply: sending again does not use a second attempt."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Route, expect
from sqlalchemy import select

from service.models import Submission, User
from tests.e2e.test_browser import DESKTOP, STUDENT, _fill, _log_in, _stored_variant
from tests.integration.stack import Stack

pytestmark = pytest.mark.e2e


def test_a_submit_whose_reply_was_lost_is_stored_once_when_sent_again(browser, stack: Stack):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _log_in(page, stack, STUDENT)
    page.get_by_role("link", name=re.compile("STAT-330")).click()
    page.get_by_role("link", name="Simple linear regression").click()
    parts = _stored_variant(stack, STUDENT)["parts"]
    _fill(page, {p["id"]: p["answer"] for p in parts}, parts)

    lost = []

    def lose_the_first_reply(route: Route) -> None:
        if not lost:
            lost.append(route.fetch())  # the server stores the submission…
            route.abort("connectionreset")  # …and its reply never reaches the page
        else:
            route.continue_()

    page.route(re.compile(r"/items/\d+/submit$"), lose_the_first_reply)
    page.get_by_role("button", name=re.compile("Submit")).click()
    expect(page.locator("#grading-status")).to_contain_text("Could not reach the server")
    assert lost and lost[0].status == 202

    page.get_by_role("button", name=re.compile("Submit")).click()  # the same answers again
    expect(page.locator("#total")).to_contain_text("10 / 10 points", timeout=30_000)
    expect(page.locator("#attempts-left")).to_have_text("2")  # one attempt used, not two
    with stack.session() as session:
        user = session.scalar(select(User).where(User.email == STUDENT))
        stored = session.scalars(select(Submission).where(Submission.user_id == user.id)).all()
    assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{32}", stored[0].idempotency_key or "")
    context.close()
