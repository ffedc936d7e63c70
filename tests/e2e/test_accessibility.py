"""Every page, in Chromium: no serious axe-core violation and no sideways scroll on a phone.

One stack, one browser context per person, one tab reused: each page is loaded, audited by
``tests.e2e.audit.page_problems`` and its failures gathered, so one run names them all.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from service.models import Assignment, AssignmentProblem, Problem, Role, User
from service.services import authoring
from tests.e2e.audit import page_problems
from tests.e2e.conftest import running_stack
from tests.e2e.test_browser import DESKTOP, INSTRUCTOR, STUDENT, _log_in
from tests.integration.stack import Stack
from tests.kinds.interval_spec import INTERVAL_SPEC
from tests.service.test_editor import three_mistakes

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One stack for this module's tests (starting one costs more than the tests)."""
    with running_stack(tmp_path_factory.mktemp("a11y")) as running:
        yield running


def _audit(page: Page, url: str, found: dict[str, list[str]], label: str = "") -> None:
    """Open ``url`` (or audit the page as it is when ``url`` is empty) and note its problems."""
    if url:
        page.goto(url)
    problems = page_problems(page)
    if problems:
        found[label or url] = problems


def _answer_and_wait(page: Page) -> None:
    """Answer every part (first option; 1, 2, 3… in text inputs, mostly wrong) and submit."""
    for box in page.locator("form#answers fieldset.part").all():
        options = box.locator("input[type=radio], input[type=checkbox]")
        if options.count():
            options.first.check()
        for number, field in enumerate(box.locator("input[inputmode=decimal]").all(), 1):
            field.fill(str(number))
    page.get_by_role("button", name=re.compile("Submit")).click()
    expect(page.locator("#grading-status")).to_contain_text("Graded", timeout=30_000)


def test_every_page_passes_axe_and_fits_a_phone(browser, site: Stack):
    stack = site
    base = stack.base_url
    found: dict[str, list[str]] = {}
    with stack.session() as session:
        instructor = session.scalar(select(User).where(User.email == INSTRUCTOR))
        instructor.role = Role.admin  # the LMS platforms page is an admin's
        session.commit()
        problem_ids = {p.slug: p.id for p in session.scalars(select(Problem))}
        interval_item = _add_interval_item(session, instructor)
        student_id = session.scalar(select(User.id).where(User.email == STUDENT))

    student = browser.new_context(viewport=DESKTOP)
    page = student.new_page()
    _audit(page, f"{base}/login", found)
    _log_in(page, stack, STUDENT)
    interval_page = f"/items/{interval_item}"  # an authored problem with an interval part
    for path in (
        "/",
        "/courses/1",
        "/items/1",
        "/items/2",
        "/items/3",
        interval_page,
        "/items/999",
    ):
        _audit(page, base + path, found)
    # After grading, as the script shows it and as the page is drawn on reload.
    for path in ("/items/1", "/items/2", "/items/3", interval_page):
        page.goto(base + path)
        _answer_and_wait(page)
        _audit(page, "", found, f"{path} graded (script)")
        _audit(page, base + path, found, f"{path} graded (reloaded)")
    # The 503 page is drawn without the database; serve the server's own rendering of it.
    page.route(f"{base}/unavailable", lambda route: route.fulfill(status=503, body=_unavailable()))
    _audit(page, f"{base}/unavailable", found)
    student.close()

    teacher = browser.new_context(viewport=DESKTOP)
    page = teacher.new_page()
    _log_in(page, stack, INSTRUCTOR)
    preview = problem_ids["additive_dose"]
    for path in (
        "/teach/",
        "/teach/courses/1",
        "/teach/problems",
        f"/teach/problems/{preview}",
        f"/teach/problems/{problem_ids['logistic_cod']}",
        "/teach/problems/new",
        "/teach/problems/new?template=my_mixed_model",
        "/teach/docs/authoring",
        f"/teach/problems/{preview}/edit",
        "/teach/assignments/1",
        "/teach/courses/1/assignments/new",
        "/teach/courses/1/gradebook",
        "/teach/courses/1/gradebook?show=problems",
        "/teach/courses/1/gradebook?assignment_id=1",
        f"/teach/items/1/students/{student_id}",  # a gradebook cell, after grading
        "/teach/assignments/1/exceptions",
        "/teach/assignments/1/unrecognised",
        "/teach/courses/1/audit",
        "/teach/items/1/analytics",
        "/settings/api-tokens/",
        "/lti/courses/1",
        "/lti/platforms",
    ):
        _audit(page, base + path, found)
    _audit_the_editor(page, base, found)
    teacher.close()

    anonymous = browser.new_context(viewport=DESKTOP)
    page = anonymous.new_page()
    _audit(page, f"{base}/lti/register?openid_configuration=https://lms.example/.well-known", found)
    anonymous.close()
    assert not found, "\n".join(f"{url}\n  " + "\n  ".join(p) for url, p in found.items())


def _audit_the_editor(page: Page, base: str, found: dict[str, list[str]]) -> None:
    """The editor as a Check and a Preview of unsaved text draw it (pages from a POST)."""
    page.goto(f"{base}/teach/problems/new?template=my_linear_model")
    editor = page.get_by_label("or write the spec here")
    text = editor.input_value()
    editor.fill(three_mistakes(text))
    page.get_by_role("button", name="Check").click()
    expect(page.locator("ol.diagnostics li")).to_have_count(3)
    _audit(page, "", found, "/teach/problems/new, Check with errors")
    page.get_by_label("or write the spec here").fill(text)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview figure.plot img")).to_be_visible()
    _audit(page, "", found, "/teach/problems/new, Preview")


def _add_interval_item(session, instructor: User) -> int:
    """Publish the authored interval problem and place it in the first assignment."""
    problem = authoring.create(session, instructor, INTERVAL_SPEC)
    assert authoring.run_selftest(session, problem, seeds=3)["ok"]
    authoring.publish(session, instructor, problem)
    assignment = session.get(Assignment, 1)
    item = AssignmentProblem(assignment=assignment, problem=problem, position=99, points=10)
    session.add(item)
    session.commit()
    return item.id


def _unavailable() -> str:
    from service import create_app
    from service.errors import DATABASE_UNAVAILABLE, respond

    app = create_app({"TESTING": True})
    with app.test_request_context("/"):
        body, _status, _headers = respond(503, DATABASE_UNAVAILABLE)
    return body


def _table_cells(page: Page):
    return page.locator("table.cells input")


def _invalid_cells(page: Page) -> list[str]:
    return [
        cell.get_attribute("id") or ""
        for cell in page.locator('form#answers [aria-invalid="true"]').all()
    ]


def _type_a_bad_cell(page: Page) -> str:
    """Fill the table part with numbers but its second cell with words; that cell's id."""
    cells = _table_cells(page)
    for index in range(cells.count()):
        cells.nth(index).fill("two" if index == 1 else "0.5")
    page.get_by_role("button", name=re.compile("Submit")).click()
    return cells.nth(1).get_attribute("id") or ""


def test_the_problem_page_names_its_inputs_and_marks_the_wrong_cell(browser, site: Stack):
    """Each input is named by its prompt (and a cell by its row and column), described by
    its hint, error and feedback; an unreadable cell alone is marked, with JavaScript off
    (the page comes back from the server) and on (the script marks what the server says);
    after grading one live region says what came back."""
    plain = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = plain.new_page()
    _log_in(page, site, STUDENT)
    page.goto(f"{site.base_url}/items/2")  # additive_dose: a table part and numeric parts
    table_box = page.locator("fieldset.part", has=page.locator("table.cells")).first
    prompt = table_box.locator(".prompt").inner_text().strip()
    first = _table_cells(page).first
    row = table_box.locator("tbody th").first.inner_text()
    column = table_box.locator("thead th").first.inner_text()
    expect(first).to_have_accessible_name(f"{prompt} {row} {column}")
    expect(first).to_have_accessible_description(re.compile("significant"))
    numeric = page.locator("fieldset.part input[id^=part-]:not([id*=-cell])").first
    numeric_prompt = page.locator(f"#{numeric.get_attribute('id')}-prompt").inner_text().strip()
    expect(numeric).to_have_accessible_name(f"{numeric_prompt} Your answer")

    bad = _type_a_bad_cell(page)
    expect(page.locator(".error").filter(has_text="two")).to_be_visible()
    assert _invalid_cells(page) == [bad]
    expect(page.locator(f"#{bad}")).to_have_accessible_description(re.compile("two"))
    plain.close()

    scripted = browser.new_context(viewport=DESKTOP)
    page = scripted.new_page()
    _log_in(page, site, STUDENT)
    page.goto(f"{site.base_url}/items/2")
    bad = _type_a_bad_cell(page)
    expect(page.locator("#grading-status")).to_contain_text("No attempt was used")
    assert _invalid_cells(page) == [bad]

    live = page.locator("form#answers [aria-live], form#answers [role=status], [role=alert]")
    _answer_and_wait(page)
    assert live.count() == 1
    expect(live).to_have_text(
        re.compile(r"^Graded: attempt \d+, .* points.*; \d+ of \d+ parts correct\.$")
    )
    scripted.close()
