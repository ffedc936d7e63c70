"""The gradebook on a phone: the student column stays while the table scrolls sideways,
nothing of the page is off-screen, the course page's points are on screen, and a cell
opens that student's problem."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from service.models import Assignment, AssignmentProblem, Course, Problem, ProblemStatus
from tests.e2e.conftest import ARTIFACTS
from tests.integration.stack import Stack

pytestmark = pytest.mark.e2e

INSTRUCTOR = "instructor@demo.mixgrade"
PHONE = {"width": 390, "height": 844}


def _log_in(page: Page, stack: Stack, email: str) -> None:
    page.goto(f"{stack.base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(stack.logins[email])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your courses")).to_be_visible()


def _wide_course(stack: Stack) -> int:
    """A second assignment of twelve problems, so the gradebook is wider than a phone, and
    a newer version of its problem, so the course page offers the longest action."""
    with stack.session() as session:
        course = session.scalar(select(Course).order_by(Course.id))
        problem = session.scalar(select(Problem).where(Problem.slug == "simple_regression"))
        session.add(
            Problem(
                slug=problem.slug,
                version=problem.version + 1,
                title=problem.title,
                spec_text=problem.spec_text,
                status=ProblemStatus.published,
            )
        )
        assignment = Assignment(course=course, title="Homework 2: a long week of regressions")
        session.add(assignment)
        for position in range(1, 13):
            session.add(
                AssignmentProblem(
                    assignment=assignment, problem=problem, position=position, points=10
                )
            )
        session.commit()
        return course.id


def _page_fits(page: Page) -> None:
    """Nothing of the page is off-screen: the page itself never scrolls sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide"


def test_gradebook_on_a_phone_keeps_names_and_opens_a_cell(browser, stack: Stack):
    course_id = _wide_course(stack)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    _log_in(page, stack, INSTRUCTOR)

    page.goto(f"{stack.base_url}/teach/courses/{course_id}")
    page.screenshot(path=str(ARTIFACTS / "course-phone.png"), full_page=True)
    _page_fits(page)
    for header in page.get_by_role("columnheader", name="Points").all():
        box = header.bounding_box()  # not scrolled into view: on screen as the page opens
        assert box is not None and box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"], f"Points header at {box}"
        lines = header.evaluate(
            "th => { const r = document.createRange(); r.selectNodeContents(th);"
            " return r.getClientRects().length }"
        )
        assert lines == 1, "the Points header is broken over lines"
    expect(
        page.get_by_role("button", name=re.compile(r"^Use v\d+ for new variants"))
    ).not_to_have_count(0)

    page.goto(f"{stack.base_url}/teach/courses/{course_id}/gradebook?show=problems")
    _page_fits(page)
    expect(page.get_by_role("list", name="Markers")).to_contain_text("late")
    header = page.get_by_role("columnheader", name=re.compile(r"^A2·12: Homework 2"))
    expect(header.get_by_role("link")).to_have_text("A2·12")
    expect(header.get_by_role("link")).to_have_attribute("title", re.compile(r"^Homework 2"))
    wrap = page.locator(".gradebook-wrap")
    name = page.locator("table.gradebook tbody th.name").first
    before = name.bounding_box()
    assert before is not None
    scrolled = wrap.evaluate("box => { box.scrollLeft = box.scrollWidth; return box.scrollLeft }")
    assert scrolled > 100, "the table does not scroll inside its box"
    after = name.bounding_box()
    assert after is not None and abs(after["x"] - before["x"]) < 1, (before, after)
    expect(name).to_be_visible()
    # The last column came into view and the name column still covers its own place.
    last = page.locator("table.gradebook tbody tr").first.locator("td").last
    box = last.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"] + 1
    top = page.locator("table.gradebook thead th.name")
    wrap.evaluate("box => { box.scrollTop = box.scrollHeight }")
    expect(top).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "gradebook-phone-scrolled.png"))

    wrap.evaluate("box => { box.scrollLeft = 0; box.scrollTop = 0 }")
    cell = page.locator("table.gradebook tbody td a").first
    href = cell.get_attribute("href")
    assert href and re.fullmatch(r"/teach/items/\d+/students/\d+", href)
    cell.click()
    page.wait_for_url(re.compile(r"/teach/items/\d+/students/\d+$"))
    context.close()
