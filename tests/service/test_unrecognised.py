"""Unrecognised answers on PostgreSQL: grouping, candidates, the page, the editor link,
and who may see them."""

from __future__ import annotations

import html
import re
from collections import OrderedDict
from urllib.parse import parse_qs, urlparse

import pytest

from service.services import unrecognised
from tests.conftest import settings_on
from tests.service.unrecognised_world import PERCENT, UnrecognisedWorld, build
from tests.service.web_world import as_user


@pytest.fixture
def settings(request, tmp_path):
    return settings_on("postgresql", request, tmp_path)


@pytest.fixture
def uw(db_session) -> UnrecognisedWorld:
    return build(db_session)


def _slope(db_session, uw: UnrecognisedWorld) -> unrecognised.PartReport:
    (report,) = unrecognised.for_assignment(db_session, uw.world.assignment)
    return next(p for p in report.parts if p.id == "slope")


def test_answers_are_grouped_by_the_candidate_that_reproduces_them(db_session, uw):
    slope = _slope(db_session, uw)
    assert slope.answers == 3
    first, rest = slope.groups
    assert first.candidate is not None and first.candidate.expression == PERCENT
    assert (first.count, first.students, first.explained) == (2, 2, 2)
    assert first.offered
    assert rest.candidate is None and [a.value for a in rest.answers] == [98765.0]
    assert slope.clusters == []  # keys differ between the two datasets


def test_the_same_key_for_everyone_also_gives_raw_value_clusters(db_session):
    uw = build(db_session, same_seed=True)
    slope = _slope(db_session, uw)
    big, single = slope.clusters
    assert (big.count, big.explained, big.offered) == (2, 2, True)
    assert big.candidate is not None and big.candidate.expression == PERCENT
    assert single.value == 98765.0 and single.candidate is None


def test_refitting_stops_at_the_budget_and_the_next_request_goes_on(db_session, uw, monkeypatch):
    monkeypatch.setattr(unrecognised, "_FITS", OrderedDict())
    (report,) = unrecognised.for_assignment(db_session, uw.world.assignment, budget=-1)
    slope = next(p for p in report.parts if p.id == "slope")
    assert (slope.unchecked, slope.groups) == (3, [])
    assert _slope(db_session, uw).groups[0].explained == 2


def test_right_answers_and_choice_parts_are_not_listed(db_session, uw):
    (report,) = unrecognised.for_assignment(db_session, uw.world.assignment)
    parts = {p.id: p for p in report.parts}
    assert parts["intercept"].answers == 0
    assert parts["decision"].skipped


def test_the_page_links_to_the_editor_with_the_misconception_filled_in(client, uw):
    as_user(client, "teacher")
    page = client.get(f"/teach/assignments/{uw.world.assignment.id}/unrecognised")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    section = body.split(f'id="part-{uw.world.item.id}-slope"')[1].split("</section>")[0]
    href = html.unescape(re.search(r'class="add-misconception" href="([^"]+)"', section)[1])
    query = parse_qs(urlparse(href).query)
    assert query["part"] == ["slope"] and query["expression"] == [PERCENT]
    editor = client.get(href)
    assert editor.status_code == 200
    spec = html.unescape(_textarea(editor.get_data(as_text=True)))
    assert "version: 2" in spec
    slope_block = spec.split("- id: slope\n")[1].split("- id: prediction")[0]
    assert f"expression: '{PERCENT}'" in slope_block


def test_the_analytics_page_links_to_it(client, uw):
    as_user(client, "teacher")
    page = client.get(f"/teach/items/{uw.world.item.id}/analytics")
    assert f"/teach/assignments/{uw.world.assignment.id}/unrecognised" in page.get_data(
        as_text=True
    )


@pytest.mark.parametrize(("who", "status"), [("alice", 403), ("other_teacher", 404)])
def test_students_and_other_courses_instructors_are_refused(client, uw, who, status):
    as_user(client, who)
    page = client.get(f"/teach/assignments/{uw.world.assignment.id}/unrecognised")
    assert page.status_code == status


def test_an_unknown_assignment_is_404(client, uw):
    as_user(client, "teacher")
    assert client.get("/teach/assignments/999999/unrecognised").status_code == 404


@pytest.mark.parametrize("copy", ["99999999999999999999", "-1", "x", "999999"])
def test_a_copy_of_a_bad_or_unknown_problem_is_never_a_500(client, uw, copy):
    as_user(client, "teacher")
    status = client.get("/teach/problems/new", query_string={"copy": copy}).status_code
    assert status == (404 if copy == "999999" else 200)


def test_a_prefill_the_spec_would_refuse_leaves_the_text_and_says_why(client, uw):
    as_user(client, "teacher")
    url = f"/teach/problems/{uw.problem.id}/edit"
    bad = {"part": "slope", "misconception": "x", "expression": "eval(1)", "message": "m"}
    page = client.get(url, query_string=bad)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "could not be added" in body and "eval(1)" not in _textarea(body)


def _textarea(body: str) -> str:
    return re.search(r'<textarea id="spec_text"[^>]*>(.*?)</textarea>', body, re.S)[1]


def test_a_problem_one_may_not_edit_is_offered_as_a_copy_with_the_misconception(
    client, db_session, uw
):
    uw.problem.created_by_id = uw.world.users["other_teacher"].id
    db_session.commit()
    as_user(client, "teacher")
    page = client.get(f"/teach/assignments/{uw.world.assignment.id}/unrecognised")
    body = page.get_data(as_text=True)
    href = html.unescape(re.search(r'class="add-misconception" href="([^"]+)"', body)[1])
    assert href.startswith("/teach/problems/new?")
    spec = html.unescape(_textarea(client.get(href).get_data(as_text=True)))
    assert "id: my_regression_copy\n" in spec and "version: 1\n" in spec
    assert f"expression: '{PERCENT}'" in spec.split("- id: slope\n")[1]
