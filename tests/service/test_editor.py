"""The problem editor's routes (issue 16): start from a template, Check every problem at
once, Preview unsaved text with its plot, save; and every bad input is a 4xx that says why."""

from __future__ import annotations

import re
import time

import pytest
from markupsafe import escape
from sqlalchemy import select

import problem_bank
from problem_bank.skeletons import skeleton_texts
from service.models import Enrollment, Problem, Role
from service.services import authoring, draft_plots
from tests.conftest import csrf_token
from tests.hostile_yaml import HOSTILE_YAML
from tests.service.web_world import as_user, build_world

NEW = "/teach/problems/new"
LINEAR = next(t for t in skeleton_texts().values() if "id: my_linear_model" in t)


@pytest.fixture
def world(db_session):
    return build_world(db_session)


def _line(text: str, starts: str) -> int:
    return next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith(starts))


def _send(client, data: dict, url: str = NEW, page: str = NEW):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def three_mistakes(text: str = LINEAR) -> str:
    """A new author's three typical mistakes: the YAML 1.1 boolean id, a misconception
    equal to the answer, a plot the family does not draw."""
    text = text.replace("id: my_linear_model", "id: yes", 1)
    text = text.replace('expression: coef("(Intercept)")', 'expression: coef("Light")', 1)
    return text.replace("plot: scatter", "plot: logistic", 1)


def test_new_problem_offers_every_template_and_the_docs(client, world):
    as_user(client, "teacher")
    page = client.get(NEW).get_data(as_text=True)
    for point in authoring.starting_points():
        assert f'<option value="{point.key}">' in page
    assert {p.key for p in authoring.starting_points() if p.builtin} == set(
        problem_bank.builtin_problems()
    )
    docs = re.search(r'href="([^"]+)" id="docs-link"', page).group(1)
    shown = client.get(docs)
    assert shown.status_code == 200
    assert "<h1>Authoring problems</h1>" in shown.get_data(as_text=True)


def test_a_template_fills_the_editor_ready_to_save_as_new(client, world, db_session):
    as_user(client, "teacher")
    page = client.get(f"{NEW}?template=simple_regression").get_data(as_text=True)
    assert "id: simple_regression_copy\n" in page and "version: 1\n" in page
    skeleton = client.get(f"{NEW}?template=my_linear_model").get_data(as_text=True)
    assert "id: my_linear_model\n" in skeleton and str(escape("Light: [0.5, 2.0]")) in skeleton
    assert _send(client, {"spec_text": LINEAR}).status_code == 302
    again = client.get(f"{NEW}?template=my_linear_model").get_data(as_text=True)
    assert "id: my_linear_model_2\n" in again  # the first is taken now


def test_an_unknown_template_is_a_404_that_says_so(client, world):
    as_user(client, "teacher")
    response = client.get(f"{NEW}?template=no_such_thing")
    assert response.status_code == 404 and "No template" in response.get_data(as_text=True)


def test_check_lists_every_mistake_at_once_with_its_line(client, world, db_session):
    as_user(client, "teacher")
    text = three_mistakes()
    for action in ("check", "save"):
        response = _send(client, {"spec_text": text, "action": action})
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        links = re.findall(r'class="to-line" data-line="(\d+)"', page)
        assert {int(n) for n in links} >= {
            _line(text, "id:"),
            _line(text, "plot:"),
        }
        assert "Not saved: 3 errors" in page, page
    assert db_session.scalar(select(Problem).where(Problem.created_by_id.is_not(None))) is None


def test_check_of_a_good_spec_says_so_and_saves_nothing(client, world, db_session):
    as_user(client, "teacher")
    response = _send(client, {"spec_text": LINEAR, "action": "check"})
    assert response.status_code == 200
    assert "No problems found" in response.get_data(as_text=True)
    assert db_session.scalar(select(Problem).where(Problem.slug == "my_linear_model")) is None


def test_check_of_an_edit_names_the_version_it_must_have(client, world, db_session):
    as_user(client, "teacher")
    _send(client, {"spec_text": LINEAR})
    mine = db_session.scalar(select(Problem).where(Problem.slug == "my_linear_model"))
    edit = f"/teach/problems/{mine.id}/edit"
    response = _send(client, {"spec_text": LINEAR, "action": "check"}, edit, edit)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "must be 2, the next version" in page
    assert f'data-line="{_line(LINEAR, "version:")}"' in page
    preview = _send(client, {"spec_text": LINEAR, "action": "preview", "seed": "2"}, edit, edit)
    assert preview.status_code == 200
    assert "Preview of the unsaved text (seed 2)" in preview.get_data(as_text=True)


def test_preview_of_unsaved_text_shows_story_plot_output_and_parts(client, world, db_session):
    as_user(client, "teacher")
    response = _send(client, {"spec_text": LINEAR, "action": "preview", "seed": "4"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    spec = problem_bank.parse_spec(LINEAR)
    variant = problem_bank.generate(spec, 4)
    assert "Preview of the unsaved text (seed 4)" in page
    assert str(escape(variant.output)) in page
    for part in variant.parts:
        for m in part.misconceptions:
            assert f"<code>{m.id}</code>" in page
    assert "accepted from" in page
    src = re.search(r'<img src="([^"]+draft-plot\.png[^"]+)"', page).group(1)
    png = client.get(src.replace("&amp;", "&"))
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data == problem_bank.plot_png(spec, variant)
    assert db_session.scalar(select(Problem).where(Problem.slug == "my_linear_model")) is None


def test_preview_of_a_bad_spec_lists_its_errors(client, world):
    as_user(client, "teacher")
    response = _send(client, {"spec_text": three_mistakes(), "action": "preview"})
    assert response.status_code == 422
    assert 'class="to-line"' in response.get_data(as_text=True)


@pytest.mark.parametrize("seed", ["x", "-1", "1.5", "", str(2**63), "9" * 500])
def test_a_bad_seed_is_a_400_that_says_so(client, world, seed):
    as_user(client, "teacher")
    response = _send(client, {"spec_text": LINEAR, "action": "preview", "seed": seed})
    assert response.status_code == 400
    assert "The seed must be a whole number" in response.get_data(as_text=True)
    saved = client.get(f"/teach/problems/{world.problem.id}?seed={seed[:40]}")
    assert saved.status_code == 400


def test_an_unknown_action_is_a_400(client, world):
    as_user(client, "teacher")
    response = _send(client, {"spec_text": LINEAR, "action": "publish"})
    assert response.status_code == 400 and "Unknown action" in response.get_data(as_text=True)


@pytest.mark.parametrize("action", ["check", "preview", "save"])
def test_oversized_text_is_refused_with_a_message(client, world, action):
    as_user(client, "teacher")
    huge = LINEAR + "# " + "x" * 70_000 + "\n"
    response = _send(client, {"spec_text": huge, "action": action})
    assert response.status_code == 422
    assert "larger than 64 KB" in response.get_data(as_text=True)
    too_big = _send(client, {"spec_text": "x" * 300_000, "action": action})
    assert too_big.status_code == 413


#: A form cannot carry a NUL or a lone surrogate (the form layer refuses them first).
FORM_HOSTILE = [case for case in HOSTILE_YAML if not re.search("[\x00\ud800-\udfff]", case[0])]


@pytest.mark.parametrize(("text", "line", "reason"), FORM_HOSTILE)
def test_hostile_yaml_is_a_422_on_check_and_preview(client, world, text, line, reason):
    as_user(client, "teacher")
    for action in ("check", "preview"):
        t0 = time.perf_counter()
        response = _send(client, {"spec_text": text, "action": action})
        assert time.perf_counter() - t0 < 5
        page = response.get_data(as_text=True)
        assert response.status_code == 422, page
        assert str(escape(reason)) in page
        assert f'data-line="{line}"' in page


def test_a_post_without_csrf_is_a_400(client, world, db_session):
    as_user(client, "teacher")
    _send(client, {"spec_text": LINEAR})
    mine = db_session.scalar(select(Problem).where(Problem.slug == "my_linear_model"))
    for url in (NEW, f"/teach/problems/{mine.id}/edit"):
        for action in ("check", "preview", "save"):
            response = client.post(url, data={"spec_text": LINEAR, "action": action})
            assert response.status_code == 400, (url, action)


def _plot_link(client) -> str:
    page = _send(client, {"spec_text": LINEAR, "action": "preview"}).get_data(as_text=True)
    return re.search(r'<img src="([^"]+draft-plot\.png[^"]+)"', page).group(1).replace("&amp;", "&")


def test_a_plot_link_works_only_for_whom_it_was_made_and_not_for_ever(client, world, monkeypatch):
    as_user(client, "teacher")
    link = _plot_link(client)
    for bad in ("/teach/problems/draft-plot.png", f"{link}x", link.replace("token=", "token=x")):
        response = client.get(bad)
        assert response.status_code == 400 and "No plot" in response.get_data(as_text=True)
    monkeypatch.setattr(draft_plots, "LINK_SECONDS", -1)
    expired = client.get(link)
    assert expired.status_code == 400 and "expired" in expired.get_data(as_text=True)
    monkeypatch.undo()
    as_user(client, "other_teacher")
    theirs = client.get(link)
    assert theirs.status_code == 400 and "another instructor" in theirs.get_data(as_text=True)


def test_a_plot_link_of_a_slow_spec_stops_at_the_preview_budget(client, world, app):
    as_user(client, "teacher")
    link = _plot_link(client)
    draft_plots.plot_png.cache_clear()
    app.config["MIXGRADE_PREVIEW_SECONDS"] = 0.0
    response = client.get(link)
    assert response.status_code == 422 and "stopped after" in response.get_data(as_text=True)


def test_students_and_lms_teachers_may_not_write_problems(client, world, db_session):
    as_user(client, "teacher")
    link = _plot_link(client)
    as_user(client, "alice")
    for url in (NEW, f"{NEW}?template=my_linear_model", link, "/teach/docs/authoring"):
        assert client.get(url).status_code == 403, url
    page = client.get("/").get_data(as_text=True)
    response = client.post(
        NEW, data={"csrf_token": csrf_token(page), "spec_text": LINEAR, "action": "check"}
    )
    assert response.status_code == 403
    # Teaching a course from the LMS is not the site role writing in the bank needs.
    outsider = world.users["outsider"]
    db_session.add(Enrollment(user=outsider, course=world.course, role=Role.instructor))
    db_session.commit()
    as_user(client, "outsider")
    assert client.get("/teach/problems").status_code == 200
    for url in (NEW, f"{NEW}?template=my_linear_model", link):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "instructor account" in response.get_data(as_text=True)


def test_warnings_are_shown_beside_their_line_and_do_not_block_saving(client, world, db_session):
    """A misconception that gives the answer in most draws (not all): generation redraws
    those, so it is a warning: listed, marked in the gutter, and the save goes through."""
    as_user(client, "teacher")
    text = LINEAR.replace(
        'expression: coef("(Intercept)")',
        'expression: ifelse(x0 > 8, coef("Light"), coef("(Intercept)"))',
        1,
    )
    line = _line(text, "        expression: ifelse(")
    checked = _send(client, {"spec_text": text, "action": "check"})
    assert checked.status_code == 200
    page = checked.get_data(as_text=True)
    assert "No errors, 1 warning" in page
    gutter = re.search(rf'<span class="warning" title="([^"]+)">{line}</span>', page)
    assert gutter and "gives the answer itself" in gutter.group(1)  # drawn without JS
    saved = _send(client, {"spec_text": text, "action": "save"})
    assert saved.status_code == 302
    shown = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert f"Warning (line {line}, parts[0].misconceptions[0].expression)" in shown
    assert db_session.scalar(select(Problem).where(Problem.slug == "my_linear_model"))


def test_the_gutter_numbers_every_line_and_marks_the_errors(client, world):
    as_user(client, "teacher")
    text = three_mistakes()
    page = _send(client, {"spec_text": text, "action": "check"}).get_data(as_text=True)
    gutter = re.search(r'<pre class="gutter"[^>]*>(.*?)</pre>', page, re.S).group(1)
    numbers = re.findall(r"<span(?: class=\"(\w+)\" title=\"[^\"]+\")?>(\d+)</span>", gutter)
    assert [int(n) for _, n in numbers] == list(range(1, len(text.split("\n")) + 1))
    marked = {int(n) for mark, n in numbers if mark == "error"}
    assert marked == {
        _line(text, "id:"),
        _line(text, "plot:"),
        _line(text, '        expression: coef("Light")'),
    }


def test_the_guide_where_it_is_not_installed_is_a_404_that_says_where(
    client, world, monkeypatch, tmp_path
):
    from service import docs_pages

    as_user(client, "teacher")
    monkeypatch.setattr(docs_pages, "DOCS", tmp_path)
    docs_pages.authoring_html.cache_clear()
    response = client.get("/teach/docs/authoring")
    docs_pages.authoring_html.cache_clear()
    assert response.status_code == 404 and "read it in the repository" in response.get_data(
        as_text=True
    )


def test_a_plot_link_to_a_hostile_spec_is_a_422(client, world, app):
    """A link is signed, so only the editor makes one; a hostile text in it is refused as
    everywhere (the text could have been previewed, its plot drawn later)."""
    as_user(client, "teacher")
    text, _line_number, reason = HOSTILE_YAML[0]  # the alias bomb
    token = draft_plots.link_token(app.secret_key, world.users["teacher"].id, text, 1)
    t0 = time.perf_counter()
    response = client.get(f"/teach/problems/draft-plot.png?token={token}")
    assert time.perf_counter() - t0 < 5
    assert response.status_code == 422
    assert str(escape(reason)) in response.get_data(as_text=True)
