"""An instructor's week in Chromium: an extension lets a student submit after the due
date, and an override with a reason, made from a gradebook cell, reaches the student."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from service.models import Assignment, AssignmentProblem, User
from tests.e2e.audit import page_problems
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_browser import DESKTOP, INSTRUCTOR, STUDENT, _fill, _log_in, _stored_variant
from tests.integration.stack import Stack

pytestmark = pytest.mark.e2e


def _submit_as_student(browser, stack: Stack) -> None:
    """Sam submits a wrong intercept to the first problem through the browser."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _log_in(page, stack, STUDENT)
    page.goto(f"{stack.base_url}/items/1")
    content = _stored_variant(stack, STUDENT)
    right = {p["id"]: p["answer"] for p in content["parts"]}
    _fill(page, {**right, "intercept": f"{right['slope']:.4g}"}, content["parts"])
    page.get_by_role("button", name=re.compile("Submit")).click()
    expect(page.locator("#total")).to_contain_text("Attempt 1", timeout=30_000)
    expect(page.locator("#total")).not_to_contain_text("late")
    context.close()


def test_an_extension_lets_the_student_submit_after_the_due_date(browser, stack: Stack):
    with stack.session() as session:
        item = session.get(AssignmentProblem, 1)
        assignment_id = item.assignment_id
        session.execute(
            update(Assignment)
            .where(Assignment.id == assignment_id)
            .values(due_at=datetime.now(UTC) - timedelta(days=1), late_until=None)
        )
        session.commit()

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _log_in(page, stack, INSTRUCTOR)
    page.goto(f"{stack.base_url}/teach/assignments/{assignment_id}/exceptions")
    page.locator("summary", has_text="Sam Student").click()
    later = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Due for Sam Student").fill(later)
    form = page.locator("form.exception-form", has=page.get_by_label("Due for Sam Student"))
    form.get_by_label("Reason").fill("Illness: doctor's note seen")
    form.get_by_role("button", name="Save exception").click()
    expect(page.get_by_text("Exception saved.")).to_be_visible()
    expect(page.locator("#exceptions")).to_contain_text("Illness: doctor's note seen")
    assert page_problems(page) == []
    page.screenshot(path=str(ARTIFACTS / "exceptions.png"), full_page=True)
    context.close()

    _submit_as_student(browser, stack)


def test_an_override_from_the_gradebook_reaches_the_student(browser, stack: Stack):
    _submit_as_student(browser, stack)
    with stack.session() as session:
        sam = session.scalar(select(User).where(User.email == STUDENT))
        sam_id = sam.id

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _log_in(page, stack, INSTRUCTOR)
    page.get_by_role("link", name=re.compile("STAT-330")).click()
    page.get_by_role("link", name=re.compile("Gradebook")).first.click()
    # The course view shows assignment totals; a total opens that assignment's problems.
    page.get_by_role("row", name=re.compile("Sam Student")).get_by_role("link").last.click()
    page.locator(f'a[href$="/teach/items/1/students/{sam_id}"]').first.click()
    expect(page).to_have_url(re.compile(f"/teach/items/1/students/{sam_id}$"))
    expect(page.get_by_role("heading", name=re.compile("Sam Student"))).to_be_visible()
    expect(page.get_by_role("link", name="data.csv").first).to_be_visible()
    assert page_problems(page) == []
    page.screenshot(path=str(ARTIFACTS / "student-detail.png"), full_page=True)

    # The accessibility audit opens every <details>; close them as a user finds them.
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = false; })")
    attempt = page.locator("article.attempt").first
    attempt.get_by_text("Override points of attempt 1").click()
    attempt.get_by_label("What to override").select_option(label="Part 1 (0 to 2)")
    attempt.get_by_label("Points").fill("2")
    attempt.get_by_label("Reason (the student sees it)").fill("Your working shows the right idea")
    attempt.get_by_role("button", name="Save override").click()
    expect(page.get_by_text("Override saved")).to_be_visible()
    expect(page.locator("tr[id$='-part-intercept']").first).to_contain_text(
        "Changed to 2: Your working shows the right idea"
    )
    context.close()

    student = browser.new_context(viewport=DESKTOP)
    page = student.new_page()
    _log_in(page, stack, STUDENT)
    page.goto(f"{stack.base_url}/items/1")
    expect(page.locator("#part-intercept-feedback")).to_contain_text(
        "Your instructor changed this to 2/2: Your working shows the right idea"
    )
    assert page_problems(page) == []
    student.close()
