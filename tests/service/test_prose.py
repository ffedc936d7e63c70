"""Stories, prompts, solutions and explanations render as safe Markdown on every page.

Before: literal ``**REML**`` and backticks on the pages, a code span broken over a YAML
line break left as backticks, and every YAML line break kept mid-sentence.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.models import AssignmentProblem, Problem
from service.prose import to_html
from service.services import tokens
from service.services.problems import builtin_spec_texts
from tests.conftest import csrf_token
from tests.service.web_world import as_user, build_world

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">raw link</a>',
    "[md link](javascript:alert(1))",
    "[entity link](&#106;avascript:alert(1))",
    "[data link](data:text/html;base64,PHNjcmlwdD4=)",
    "[vb link](  vbscript:msgbox(1))",
    "![tracker](https://evil.example/pixel.png)",
    "<javascript:alert(1)>",
    '<div style="position:fixed">overlay</div>',
]


def _is_safe(html: str) -> None:
    """No element or attribute that runs script, loads from elsewhere or breaks out."""
    assert "<script" not in html.lower()
    assert "<img" not in html.lower() and "<div" not in html.lower()
    assert not re.search(r"\son\w+\s*=", html.replace("&quot;", '"').split(">", 1)[0])
    for href in re.findall(r'href="([^"]*)"', html):
        assert re.match(r"(https?:|mailto:|/|[^:]*$)", href), href


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_is_shown_as_text_never_as_html(text):
    html = str(to_html(text))
    _is_safe(html)
    assert "<a " not in html or 'href="https://evil.example/pixel.png"' in html


def test_markdown_emphasis_code_paragraphs_and_folded_lines():
    text = "Fit by **REML** with `glmmTMB(y ~ x,\nREML = TRUE)` here\nand on.\n\nNext."
    html = str(to_html(text))
    assert "<strong>REML</strong>" in html
    assert "<code>glmmTMB(y ~ x, REML = TRUE)</code>" in html  # a code span over a line break
    assert "here\nand on.</p>\n<p>Next.</p>" in html  # a soft break stays inside the paragraph
    assert "<br" not in html and "`" not in html and "**" not in html
    assert str(to_html("a < b & `<b>`")) == "<p>a &lt; b &amp; <code>&lt;b&gt;</code></p>"


def test_links_are_kept_only_to_safe_urls_and_never_followed_by_referrer():
    html = str(to_html("[docs](https://glmmtmb.github.io) [page](/items/1)"))
    assert html.count('rel="nofollow noopener noreferrer"') == 2


def _hostile_spec() -> str:
    text = next(t for t in builtin_spec_texts().values() if "id: simple_regression" in t)
    text = text.replace("id: simple_regression", "id: hostile_prose", 1)
    story = "\n".join(f"  {line}" for line in HOSTILE)
    text = re.sub(
        r"(?ms)^story: \|\n.*?^dgp:",
        lambda _: "story: |\n  Fit by **REML** and read `lm(y ~ x)`.\n\n" + story + "\ndgp:",
        text,
    )
    text = text.replace(
        "prompt: What is the estimated intercept? Give 3 significant digits.",
        "prompt: 'What is the **intercept**? <script>alert(2)</script>'",
    )
    return text.replace(
        "solution: The intercept is the `(Intercept)` estimate, {answer}.",
        "solution: 'The `(Intercept)` row, {answer}. <iframe src=//evil></iframe>'",
    )


@pytest.fixture
def hostile(client, db_session):
    """An authored (uploaded) spec with hostile Markdown, assigned in a closed assignment
    (so the worked solution shows)."""
    world = build_world(db_session, due_in=timedelta(days=-1))
    as_user(client, "teacher")
    page = client.get("/teach/problems/new").get_data(as_text=True)
    sent = client.post(
        "/teach/problems/new",
        data={"csrf_token": csrf_token(page), "spec_text": _hostile_spec()},
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)
    problem = db_session.scalar(select(Problem).where(Problem.slug == "hostile_prose"))
    item = AssignmentProblem(assignment=world.assignment, problem=problem, position=2, points=5)
    db_session.add(item)
    db_session.commit()
    return world, problem, item


def _check_page(html: str) -> None:
    bodies = re.findall(r'<div class="(?:story|prompt|worked)"[^>]*>(.*?)</div>', html, re.S)
    assert bodies
    for body in bodies:
        _is_safe(body)
        assert "**" not in body and "`" not in body
    assert "<strong>REML</strong>" in html and "<code>lm(y ~ x)</code>" in html
    assert "<strong>intercept</strong>" in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "alert(1)</script>" not in html and "<iframe" not in html


def test_instructor_preview_renders_an_authored_spec_safely(client, hostile):
    _, problem, _ = hostile
    html = client.get(f"/teach/problems/{problem.id}?seed=1").get_data(as_text=True)
    _check_page(html)


def test_student_page_renders_story_prompt_and_solution_safely(client, hostile):
    _, _, item = hostile
    as_user(client, "alice")
    html = client.get(f"/items/{item.id}").get_data(as_text=True)
    _check_page(html)
    assert 'id="solution-h"' in html and "&lt;iframe" in html  # the worked solution, escaped


def test_api_returns_the_markdown_and_the_same_html(client, hostile, db_session):
    world, _, item = hostile
    secret = tokens.create(db_session, world.users["teacher"], name="prose")[1]
    auth = {"Authorization": f"Bearer {secret}"}
    body = client.post(
        f"/api/v1/items/{item.id}/variants",
        json={"user_id": world.users["alice"].id},
        headers=auth,
    ).get_json()
    assert "**REML**" in body["story"] and body["story_html"] == str(to_html(body["story"]))
    _is_safe(body["story_html"])
    part = body["parts"][0]
    assert part["prompt_html"] == str(to_html(part["prompt"]))
    assert "&lt;iframe" in part["solution_html"] and "<iframe" not in part["solution_html"]
