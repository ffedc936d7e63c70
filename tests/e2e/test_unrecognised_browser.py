"""An instructor accepts a suggested misconception: from the unrecognised answers to the
spec editor with the expression filled in at the part."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from service.models import AssignmentProblem, User
from tests.e2e.audit import page_problems
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_browser import DESKTOP, INSTRUCTOR, _log_in
from tests.integration.stack import Stack
from tests.service.unrecognised_world import PERCENT, stage

pytestmark = pytest.mark.e2e

STUDENTS = ("student1@demo.mixgrade", "student2@demo.mixgrade")


def test_instructor_accepts_a_suggested_misconception(browser, stack: Stack):
    with stack.session() as session:
        item = session.get(AssignmentProblem, 1)
        teacher = session.scalar(select(User).where(User.email == INSTRUCTOR))
        students = {e: session.scalar(select(User).where(User.email == e)) for e in STUDENTS}
        stage(session, item, teacher, students)
        assignment_id = item.assignment_id

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _log_in(page, stack, INSTRUCTOR)
    page.goto(f"{stack.base_url}/teach/items/1/analytics")
    page.get_by_role("link", name="Unrecognised answers").click()
    expect(page).to_have_url(re.compile(f"/teach/assignments/{assignment_id}/unrecognised"))
    part = page.locator("#part-1-slope")
    expect(part).to_contain_text(PERCENT)
    expect(part).to_contain_text("explains 2 of 2")
    page.screenshot(path=str(ARTIFACTS / "unrecognised.png"), full_page=True)
    assert page_problems(page) == []
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = false; })")
    part.get_by_role("link", name=re.compile("Add as misconception")).click()

    expect(page.get_by_role("heading", name=re.compile("Edit My regression"))).to_be_visible()
    expect(page.locator("#added-misconception")).to_contain_text("slope")
    spec = page.locator("#spec_text").input_value()
    slope = spec.split("- id: slope\n")[1].split("- id: prediction")[0]
    assert f"expression: '{PERCENT}'" in slope
    assert "version: 2" in spec
    assert page_problems(page) == []
    page.get_by_role("button", name="Validate and save draft").click()
    expect(page.get_by_text(re.compile("Saved my_regression version 2 as a draft"))).to_be_visible()
    context.close()
