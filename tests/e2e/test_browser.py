"""A student and an instructor in a real browser, against real server and worker processes."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from service.models import StoredVariant, User
from tests.e2e.conftest import ARTIFACTS
from tests.integration.stack import Stack

pytestmark = pytest.mark.e2e

STUDENT = "student1@demo.mixgrade"
INSTRUCTOR = "instructor@demo.mixgrade"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _log_in(page: Page, stack: Stack, email: str) -> None:
    _log_in_at(page, stack.base_url, email, stack.logins[email])


def _log_in_at(page: Page, base_url: str, email: str, password: str) -> None:
    """Log in with the tool's password form at ``base_url``; wait for the home page."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your courses")).to_be_visible()


def _stored_variant(stack: Stack, email: str) -> dict:
    with stack.session() as session:
        user = session.scalar(select(User).where(User.email == email))
        row = session.scalar(
            select(StoredVariant)
            .where(StoredVariant.user_id == user.id, StoredVariant.is_practice.is_(False))
            .order_by(StoredVariant.id)
        )
        return row.content


def _fill(page: Page, answers: dict, parts: list[dict]) -> None:
    for part in parts:
        value = answers[part["id"]]
        if part["kind"] == "choice":
            page.locator(f'input[name="part-{part["id"]}"][value="{value}"]').check()
        elif part["kind"] == "numeric":
            page.locator(f"#part-{part['id']}").fill(str(value))
        elif part["kind"] == "table":
            # Each cell is named by the prompt, its row and its column (row-major order).
            cells = [f"{row} {col}" for row in part["rows"] for col in part["columns"]]
            for name, cell in zip(cells, value, strict=True):
                box = page.locator(f"#part-{part['id']}-box")
                box.get_by_role("textbox", name=re.compile(f"{re.escape(name)}$")).fill(str(cell))


def test_student_wrong_then_right_answer(browser, stack: Stack):
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    _log_in(page, stack, STUDENT)
    page.get_by_role("link", name=re.compile("STAT-330")).click()
    page.get_by_role("link", name="Simple linear regression").click()
    expect(page.get_by_role("heading", name="Simple linear regression")).to_be_visible()
    expect(
        page.get_by_role("img", name=re.compile(r"^Scatter plot of \w+ against"))
    ).to_be_visible()
    content = _stored_variant(stack, STUDENT)

    with page.expect_download() as info:
        page.get_by_role("link", name="data.csv").click()
    download = info.value
    assert download.suggested_filename == "data.csv"
    assert Path(download.path()).read_text(encoding="utf-8") == content["data_csv"]

    parts = content["parts"]
    right = {p["id"]: p["answer"] for p in parts}
    # An unreadable answer: the message sits by its input, and no attempt is used.
    _fill(page, right, parts)
    page.locator("#part-intercept").fill("about two")
    page.get_by_role("button", name=re.compile("Submit")).click()
    expect(page.locator("#part-intercept-error")).not_to_be_empty()
    expect(page.locator("#attempts-left")).to_have_text("3")

    slope = right["slope"]
    page.locator("#part-intercept").fill(f"{slope:.4g}")
    page.get_by_role("button", name=re.compile("Submit")).click()
    expect(page.locator("#grading-status")).to_have_text(re.compile("grading…|Graded"))
    feedback = page.locator("#part-intercept-feedback")
    expect(feedback).to_contain_text("slope", timeout=30_000)
    expect(feedback.locator(".verdict")).to_have_text("incorrect")
    expect(page.locator("#attempts-left")).to_have_text("2")
    page.screenshot(path=str(ARTIFACTS / "problem-misconception.png"), full_page=True)

    page.locator("#part-intercept").fill(f"{right['intercept']:.6g}")
    page.get_by_role("button", name=re.compile("Submit")).click()
    expect(page.locator("#total")).to_contain_text("Attempt 2", timeout=30_000)
    expect(page.locator("#total")).to_contain_text("10 / 10 points")
    expect(feedback.locator(".verdict")).to_have_text("correct")
    page.screenshot(path=str(ARTIFACTS / "problem-full-marks.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(ARTIFACTS / "problem-phone.png"), full_page=True)
    context.close()


def test_instructor_builds_assignment_and_exports_gradebook(browser, stack: Stack):
    # A student submits first, through the browser, so the gradebook has a row to show.
    student = browser.new_context(viewport=DESKTOP)
    page = student.new_page()
    _log_in(page, stack, STUDENT)
    page.goto(f"{stack.base_url}/items/1")
    content = _stored_variant(stack, STUDENT)
    right = {p["id"]: p["answer"] for p in content["parts"]}
    slope = right["slope"]
    _fill(page, {**right, "intercept": f"{slope:.4g}"}, content["parts"])
    page.get_by_role("button", name=re.compile("Submit")).click()
    expect(page.locator("#total")).to_contain_text("Attempt 1", timeout=30_000)
    student.close()

    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    _log_in(page, stack, INSTRUCTOR)
    page.get_by_role("link", name=re.compile("STAT-330")).click()
    page.get_by_role("link", name="New assignment").click()
    page.get_by_label("Title").fill("Quiz 2: GLMs")
    page.get_by_label("Due (UTC)").fill("2031-03-01T17:00")
    page.get_by_label("Accept late work until (UTC)").fill("2031-03-04T17:00")
    page.get_by_label("Late penalty (%)").fill("15")
    page.get_by_label("Attempts").fill("2")
    page.get_by_label("Practice mode").check()
    page.get_by_role("checkbox", name="Simple linear regression").check()
    page.get_by_label("Points for Simple linear regression").fill("20")
    page.get_by_role("button", name="Create assignment").click()
    expect(page.get_by_role("heading", name="Quiz 2: GLMs")).to_be_visible()
    page.get_by_label(re.compile("^decision")).fill("8")
    page.get_by_role("button", name="Save points per part").click()
    expect(page.get_by_text("Points saved")).to_be_visible()

    page.get_by_role("link", name="STAT-330").click()
    page.get_by_role("link", name="Gradebook").click()
    expect(page.get_by_role("columnheader", name=re.compile("Quiz 2: GLMs"))).to_be_visible()
    page.get_by_label("Each problem").check()
    page.get_by_role("button", name="Show").click()
    row = page.get_by_role("row", name=re.compile("Sam Student"))
    expect(row.locator('a[title^="1 attempt · last"]')).to_have_count(1)
    expect(page.get_by_role("columnheader", name=re.compile("Quiz 2: GLMs"))).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "gradebook.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(ARTIFACTS / "gradebook-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)

    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    sam = next(r for r in rows if r["email"] == STUDENT)
    first = next(k for k in sam if k.endswith(": attempts"))
    assert sam[first] == "1"

    page.goto(f"{stack.base_url}/teach/items/1/analytics")
    expect(page.get_by_text("slope_for_intercept")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "analytics.png"), full_page=True)
    context.close()


def _tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has the focus, as a keyboard user."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def test_student_can_do_everything_with_the_keyboard(browser, stack: Stack):
    """Log in, open the problem, answer every part and submit without touching the mouse."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{stack.base_url}/login")
    _tab_to(page, "#email")
    page.keyboard.type(STUDENT)
    _tab_to(page, "#password")
    page.keyboard.type(stack.logins[STUDENT])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your courses")).to_be_visible()

    for link in ('a[href^="/courses/"]', 'a[href^="/items/"]'):
        _tab_to(page, link)
        with page.expect_navigation():
            page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Simple linear regression")).to_be_visible()

    parts = _stored_variant(stack, STUDENT)["parts"]
    for part in parts:
        if part["kind"] == "numeric":
            _tab_to(page, f"#part-{part['id']}")
            page.keyboard.type(str(part["answer"]))
        elif part["kind"] == "choice":
            _tab_to(page, f'input[name="part-{part["id"]}"]')
            choice_ids = [c["id"] for c in part["choices"]]
            # Arrow keys move through a radio group; Space selects the first one.
            page.keyboard.press("Space")
            for _ in range(choice_ids.index(part["answer"])):
                page.keyboard.press("ArrowDown")
    _tab_to(page, 'form button[type="submit"]')
    page.keyboard.press("Enter")
    expect(page.locator("#total")).to_contain_text("10 / 10 points", timeout=30_000)
    context.close()


def test_student_fills_a_table_part(browser, stack: Stack):
    """The dummy-coding table and the per-group intercepts are typed cell by cell."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _log_in(page, stack, STUDENT)
    page.get_by_role("link", name=re.compile("STAT-330")).click()
    page.get_by_role("link", name=re.compile("^Additive model")).click()
    with stack.session() as session:
        user = session.scalar(select(User).where(User.email == STUDENT))
        parts = (
            session.scalars(select(StoredVariant).where(StoredVariant.user_id == user.id))
            .one()
            .content["parts"]
        )
    assert any(p["kind"] == "table" for p in parts)
    _fill(page, {p["id"]: p["answer"] for p in parts}, parts)
    page.get_by_role("button", name=re.compile("Submit")).click()
    expect(page.locator("#total")).to_contain_text("10 / 10 points", timeout=30_000)
    for part in parts:
        if part["kind"] == "table":
            verdict = page.locator(f"#part-{part['id']}-feedback .verdict")
            expect(verdict).to_have_text("correct")
    context.close()
