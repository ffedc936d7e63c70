"""Issue 16's "Done means", in Chromium against the real server and worker: a new
instructor picks a template, makes three typical mistakes, sees all three at once with
their lines, jumps to one, fixes them, previews with the plot, saves, self-tests,
publishes and adds the problem to an assignment."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.audit import page_problems
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_browser import DESKTOP, INSTRUCTOR, _log_in
from tests.e2e.test_csp import _watch
from tests.integration.stack import Stack
from tests.service.test_editor import three_mistakes

pytestmark = pytest.mark.e2e


def _caret_line(page: Page) -> int:
    """The 1-based line of the editor's caret, and that the editor has the focus."""
    return page.evaluate(
        """() => {
            const area = document.getElementById("spec_text");
            if (document.activeElement !== area) return -1;
            return area.value.slice(0, area.selectionStart).split("\\n").length;
        }"""
    )


def _line_of(text: str, starts: str) -> int:
    return next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith(starts))


def test_a_new_instructor_writes_checks_previews_and_publishes_a_problem(browser, stack: Stack):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    complaints: list[str] = []
    _watch(page, complaints)  # the editor's script and the plot work under the CSP
    _log_in(page, stack, INSTRUCTOR)
    page.get_by_role("link", name="Problem bank").click()
    page.get_by_role("link", name="New problem").click()
    expect(page.get_by_role("link", name=re.compile("authoring guide"))).to_be_visible()

    # Start from the linear-model skeleton.
    page.get_by_label("Start from").select_option(label="My linear model")
    page.get_by_role("button", name="Use this template").click()
    editor = page.get_by_label("or write the spec here")
    template = editor.input_value()
    assert "id: my_linear_model\n" in template
    assert page_problems(page) == []

    # Three typical mistakes, all listed at once with their lines.
    wrong = three_mistakes(template)
    editor.fill(wrong)
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("heading", name="Not saved: 3 errors")).to_be_visible()
    found = page.locator("ol.diagnostics li")
    expect(found).to_have_count(3)
    expected_lines = [
        _line_of(wrong, "id:"),
        _line_of(wrong, "plot:"),
        _line_of(wrong, '        expression: coef("Light")'),
    ]
    links = page.locator("ol.diagnostics a.to-line")
    assert [int(a.get_attribute("data-line") or 0) for a in links.all()] == expected_lines
    expect(found.nth(0)).to_contain_text("YAML 1.1 boolean")
    expect(found.nth(1)).to_contain_text("family: binomial")
    expect(found.nth(2)).to_contain_text("gives the answer itself")
    for line in expected_lines:  # each marked beside its line in the gutter
        expect(
            page.locator("#spec-gutter span.error", has_text=re.compile(f"^{line}$"))
        ).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "editor-three-errors.png"), full_page=True)
    assert page_problems(page) == []

    # A click on an error puts the caret on its line.
    links.nth(1).click()
    assert _caret_line(page) == expected_lines[1]
    links.nth(2).click()
    assert _caret_line(page) == expected_lines[2]

    # Fixed, previewed at seed 3 (with the plot), saved.
    editor.fill(template)
    page.get_by_label("Seed").fill("3")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview of the unsaved text (seed 3)")).to_be_visible()
    plot = page.locator("#preview figure.plot img")
    expect(plot).to_be_visible()
    page.wait_for_function(
        "() => { const i = document.querySelector('#preview figure.plot img');"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=30_000,
    )
    expect(page.locator("#preview")).to_contain_text("Reference answer")
    expect(page.locator("#preview")).to_contain_text("intercept_for_slope")
    assert editor.input_value() == template  # the preview keeps the text being edited
    page.screenshot(path=str(ARTIFACTS / "editor-preview.png"), full_page=True)
    assert page_problems(page) == []
    page.get_by_role("button", name="Validate and save draft").click()
    expect(page.get_by_text("Saved my_linear_model version 1 as a draft.")).to_be_visible()

    # Self-test (on the worker; the page reloads until it is done), then publish.
    page.get_by_role("button", name="Run self-test").click()
    expect(page.get_by_text(re.compile(r"^Passed"))).to_be_visible(timeout=90_000)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Published my_linear_model version 1.")).to_be_visible()

    # Add it to the course's first assignment.
    page.get_by_role("link", name="Teaching").click()
    page.get_by_role("link", name=re.compile("STAT-330")).first.click()
    page.locator("h2 a[href*='/teach/assignments/']").first.click()
    page.get_by_label("Problem (published)").select_option(
        label="My linear model · linear models · v1"
    )
    page.get_by_role("button", name="Add problem").click()
    expect(
        page.get_by_role("heading", name=re.compile(r"\d+\. My linear model v1"))
    ).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "editor-added-to-assignment.png"), full_page=True)
    assert complaints == []
    context.close()


def test_the_editor_works_without_javascript(browser, stack: Stack):
    """The server draws the gutter and the list; a listed error links to the text area."""
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    _log_in(page, stack, INSTRUCTOR)
    page.goto(f"{stack.base_url}/teach/problems/new")
    page.get_by_label("Start from").select_option(label="My Poisson regression")
    page.get_by_role("button", name="Use this template").click()
    editor = page.get_by_label("or write the spec here")
    text = editor.input_value()
    editor.fill(text.replace("plot: group_lines", "plot: logistic"))
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("heading", name="Not saved: 1 error")).to_be_visible()
    link = page.locator("ol.diagnostics a.to-line")
    line = _line_of(text, "plot:")
    expect(link).to_have_text(f"Line {line}")
    expect(page.locator("#spec-gutter span.error")).to_have_text(str(line))
    link.click()
    expect(page).to_have_url(re.compile("#spec_text$"))
    editor.fill(text)
    page.get_by_role("button", name="Preview").click()
    plot = page.locator("#preview figure.plot img")
    expect(plot).to_be_visible()
    png = context.request.get(f"{stack.base_url}{plot.get_attribute('src')}")
    assert png.status == 200 and png.headers["content-type"] == "image/png"
    context.close()
