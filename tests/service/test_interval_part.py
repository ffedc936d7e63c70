"""An authored problem with an interval part, through the page (no JavaScript) and the API."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from service.models import AssignmentProblem, Submission
from service.services import authoring, tokens
from tests.conftest import csrf_token
from tests.kinds.interval_spec import INTERVAL_SPEC
from tests.service.web_world import World, as_user, build_world


@pytest.fixture
def world(db_session) -> World:
    return build_world(db_session)


@pytest.fixture
def item(db_session, world: World) -> AssignmentProblem:
    """The authored interval problem, self-tested, published and placed in the assignment."""
    problem = authoring.create(db_session, world.users["teacher"], INTERVAL_SPEC)
    assert authoring.run_selftest(db_session, problem, seeds=3)["ok"]
    authoring.publish(db_session, world.users["teacher"], problem)
    row = AssignmentProblem(assignment=world.assignment, problem=problem, position=2, points=10)
    db_session.add(row)
    db_session.commit()
    return row


def _tag(html: str, tag_id: str) -> str:
    return re.search(rf'<[a-z]+ [^>]*id="{re.escape(tag_id)}"[^>]*>', html, re.S).group(0)


def _post(client, item: AssignmentProblem, lower: str, upper: str):
    html = client.get(f"/items/{item.id}").get_data(as_text=True)
    form = MultiDict(
        [
            ("csrf_token", csrf_token(html)),
            ("part-slope_ci", lower),
            ("part-slope_ci", upper),
            ("part-intercept", "1"),
        ]
    )
    return client.post(f"/items/{item.id}/submit", data=form)


def test_the_page_shows_two_named_bound_inputs(client, item):
    as_user(client, "alice")
    html = client.get(f"/items/{item.id}").get_data(as_text=True)
    described = 'aria-describedby="part-slope_ci-format part-slope_ci-error part-slope_ci-feedback"'
    for i, label in enumerate(("Lower bound", "Upper bound")):
        tag = _tag(html, f"part-slope_ci-bound{i}")
        assert 'name="part-slope_ci"' in tag
        labelled = f'aria-labelledby="part-slope_ci-prompt part-slope_ci-bound{i}-label"'
        assert labelled in tag and described in tag and "aria-invalid" not in tag
        assert f'id="part-slope_ci-bound{i}-label">{label}</label>' in html
    assert "Give 3 significant digits in each bound." in html


def test_without_javascript_only_the_unreadable_bound_is_marked(client, item, db_session):
    as_user(client, "alice")
    page = _post(client, item, "1.2", "two")
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'aria-invalid="true"' not in _tag(html, "part-slope_ci-bound0")
    assert 'aria-invalid="true"' in _tag(html, "part-slope_ci-bound1")
    assert 'value="two"' in html and "Upper bound:" in html
    assert db_session.scalars(select(Submission)).all() == []


def test_without_javascript_swapped_bounds_are_refused_and_both_marked(client, item):
    as_user(client, "alice")
    html = _post(client, item, "2.0", "1.0").get_data(as_text=True)
    assert "lower bound is above the upper bound" in html
    assert all('aria-invalid="true"' in _tag(html, f"part-slope_ci-bound{i}") for i in range(2))


def test_without_javascript_both_bounds_are_stored_in_order(client, item, db_session):
    as_user(client, "alice")
    reply = _post(client, item, "1.2", "1.9")
    assert reply.status_code in (302, 303), reply.get_data(as_text=True)
    (stored,) = db_session.scalars(select(Submission)).all()
    assert stored.answers["slope_ci"] == ["1.2", "1.9"]


def _api(client, db_session, world: World, item: AssignmentProblem, answer):
    token = tokens.create(db_session, world.users["alice"], name="interval")[1]
    auth = {"Authorization": f"Bearer {token}"}
    issued = client.post(f"/api/v1/items/{item.id}/variants", json={}, headers=auth)
    assert issued.status_code in (200, 201), issued.get_data(as_text=True)
    return client.post(
        f"/api/v1/variants/{issued.get_json()['id']}/submissions",
        json={"answers": {"slope_ci": answer}},
        headers=auth,
    )


@pytest.mark.parametrize("answer", [{"lower": 1.2, "upper": 1.9}, [1.2, "1.9"]])
def test_the_api_takes_an_object_or_a_pair(client, db_session, world, item, answer):
    reply = _api(client, db_session, world, item, answer)
    assert reply.status_code == 202, reply.get_json()


def test_the_api_refuses_a_lower_bound_above_the_upper_as_unreadable(
    client, db_session, world, item
):
    reply = _api(client, db_session, world, item, {"lower": 2, "upper": 1})
    assert reply.status_code == 422
    body = reply.get_json()
    assert "could not be read" in body["detail"]
    assert "lower bound is above the upper bound" in body["errors"]["slope_ci"]


@pytest.mark.parametrize("answer", [[1.2], {"lower": 1.2}, 1.2, [1, 2, 3]])
def test_the_api_refuses_a_misshapen_interval(client, db_session, world, item, answer):
    reply = _api(client, db_session, world, item, answer)
    assert reply.status_code == 422
    assert "lower" in reply.get_json()["errors"]["slope_ci"]
