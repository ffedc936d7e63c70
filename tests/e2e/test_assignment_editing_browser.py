"""An instructor edits an assignment that has submissions: moves the due date, reorders,
and removes a problem a student submitted to; the student's pages say what changed, and
their submission is still there."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from service.models import AssignmentProblem
from tests.e2e.audit import page_problems
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_browser import DESKTOP, INSTRUCTOR, STUDENT, _fill, _log_in, _stored_variant
from tests.integration.stack import Stack

pytestmark = pytest.mark.e2e


def test_instructor_edits_an_assignment_with_submissions(browser, stack: Stack):
    with stack.session() as session:
        first = session.get(AssignmentProblem, 1)
        assignment_id, title = first.assignment_id, first.problem.title
        others = [
            (ap.id, ap.problem.title)
            for ap in session.scalars(
                select(AssignmentProblem)
                .where(AssignmentProblem.assignment_id == assignment_id)
                .order_by(AssignmentProblem.position)
            )
            if ap.id != 1
        ]

    # The student submits to the first problem and is graded.
    student = browser.new_context(viewport=DESKTOP)
    page = student.new_page()
    _log_in(page, stack, STUDENT)
    page.goto(f"{stack.base_url}/items/1")
    content = _stored_variant(stack, STUDENT)
    _fill(page, {p["id"]: p["answer"] for p in content["parts"]}, content["parts"])
    page.get_by_role("button", name=re.compile("Submit")).click()
    expect(page.locator("#total")).to_contain_text("Attempt 1", timeout=30_000)

    # The instructor moves the due date, reorders, and removes the submitted problem.
    teacher = browser.new_context(viewport=DESKTOP)
    desk = teacher.new_page()
    _log_in(desk, stack, INSTRUCTOR)
    desk.goto(f"{stack.base_url}/teach/assignments/{assignment_id}")
    desk.get_by_text("Edit settings").click()
    due = (datetime.now(UTC) + timedelta(days=3)).replace(hour=17, minute=0)
    desk.get_by_label("Due (UTC)").fill(due.strftime("%Y-%m-%dT%H:%M"))
    desk.get_by_role("button", name="Save settings").click()
    expect(desk.get_by_text(re.compile("Students are told: The due date moved"))).to_be_visible()
    assert page_problems(desk) == []

    last_title = others[-1][1]
    desk.get_by_role("button", name=f"Move {last_title} up").click()
    expect(desk.locator("h2").nth(len(others) - 1)).to_contain_text(last_title)

    desk.get_by_text(f"Remove {title}…").click()
    expect(desk.locator("#remove-1-note")).to_contain_text("archived")
    desk.get_by_role("button", name=f"Archive {title}").click()
    expect(desk.get_by_text(f"Archived {title}")).to_be_visible()
    expect(desk.get_by_role("heading", name=re.compile(re.escape(title)))).to_have_count(0)
    desk.screenshot(path=str(ARTIFACTS / "assignment-edited.png"), full_page=True)
    teacher.close()

    # The student's course page: what changed, and the removed problem is not listed.
    page.goto(f"{stack.base_url}/")
    page.get_by_role("link", name=re.compile("STAT-330")).click()
    changes = page.locator(".changes").first
    expect(changes).to_contain_text(f"The due date moved to {due.day} {due:%b %Y} 17:00 UTC")
    expect(changes).to_contain_text(f"{title} was removed from the assignment")
    expect(page.get_by_role("link", name=title)).to_have_count(0)
    assert page_problems(page) == []

    # Their work on it is still there, read-only.
    page.goto(f"{stack.base_url}/items/1")
    expect(page.locator("#archived-note")).to_contain_text("removed from the assignment")
    expect(page.locator(".changes")).to_contain_text("The due date moved to")
    expect(page.locator("#history")).to_contain_text("Attempt 1")
    expect(page.get_by_role("button", name=re.compile("Submit"))).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "problem-archived.png"), full_page=True)
    assert page_problems(page) == []
    student.close()
