"""An instructor filters the bank, archives a draft an assignment uses, and copies an
assignment into next term's course, in Chromium against the real server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from service.models import Assignment, AssignmentProblem, Course, Enrollment, Role, User
from service.services import authoring
from tests.e2e.audit import page_problems
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_browser import DESKTOP, INSTRUCTOR, _log_in
from tests.integration.stack import Stack
from tests.service.test_bank import spec

pytestmark = pytest.mark.e2e


def _stage(stack: Stack) -> tuple[int, int, int]:
    """Next term's course (taught by the demo instructor), a draft of theirs, and an
    assignment there that uses the draft (so it can only be archived)."""
    with stack.session() as session:
        teacher = session.scalar(select(User).where(User.email == INSTRUCTOR))
        next_term = Course(code="STAT-330-NEXT", title="Models, next term")
        session.add(next_term)
        session.add(Enrollment(user=teacher, course=next_term, role=Role.instructor))
        authoring.create(session, teacher, spec("browser_kept", topic="Browser topic"))
        used = authoring.create(session, teacher, spec("browser_used", topic="Browser topic"))
        trial = Assignment(course=next_term, title="Trial run")
        session.add(AssignmentProblem(assignment=trial, problem=used, position=1))
        session.add(trial)
        session.commit()
        source = session.scalar(select(Assignment).order_by(Assignment.id)).id
        return next_term.id, used.id, source


def test_filter_the_bank_archive_a_draft_and_copy_an_assignment(browser, stack: Stack):
    next_term_id, _used_id, source_id = _stage(stack)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _log_in(page, stack, INSTRUCTOR)

    # Filter the bank: drafts of one topic; the URL keeps the filter.
    page.goto(f"{stack.base_url}/teach/problems")
    page.get_by_label("Status").select_option("draft")
    page.get_by_label("Topic").select_option("Browser topic")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=draft&topic=Browser\+topic"))
    bank = page.get_by_role("region", name="Problem bank")
    expect(bank.get_by_role("row")).to_have_count(3)  # the header and two drafts
    expect(bank).not_to_contain_text("simple_regression")
    assert page_problems(page) == []

    # Archive the draft the trial assignment uses: it leaves the bank's default list.
    bank.get_by_role("row").filter(has_text="browser_used").get_by_role("link").first.click()
    expect(page.get_by_text("An assignment uses it, so it is archived")).to_be_visible()
    page.get_by_role("button", name="Archive this version").click()
    expect(page.get_by_text(re.compile("Archived browser_used version 1"))).to_be_visible()
    expect(page.locator("h1 .badge")).to_have_text("archived")
    page.goto(f"{stack.base_url}/teach/problems?status=archived")
    expect(page.get_by_role("region", name="Problem bank")).to_contain_text("browser_used")
    page.goto(f"{stack.base_url}/teach/problems")
    expect(page.get_by_role("region", name="Problem bank")).not_to_contain_text("browser_used")

    # Copy the demo assignment into next term's course, two weeks later.
    page.goto(f"{stack.base_url}/teach/assignments/{source_id}")
    title = page.get_by_role("heading", level=1).inner_text()
    copy_form = page.locator("#copy-assignment")
    copy_form.get_by_label("Course").select_option(str(next_term_id))
    copy_form.get_by_label(re.compile("Move every date by")).fill("14")
    assert page_problems(page) == []
    copy_form.get_by_role("button", name="Copy this assignment").click()
    expect(page.get_by_text(re.compile("Copied .* into STAT-330-NEXT"))).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("link", name="STAT-330-NEXT")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "copied-assignment.png"), full_page=True)
    with stack.session() as session:
        original = session.get(Assignment, source_id)
        (copy,) = [a for a in session.get(Course, next_term_id).assignments if a.title == title]
        assert [ap.problem_id for ap in copy.assignment_problems] == [
            ap.problem_id for ap in original.assignment_problems
        ]
        assert (copy.due_at - original.due_at).days == 14
    context.close()
