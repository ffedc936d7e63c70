"""Every download and plot a page or the API offers exists, over every built-in problem.

``which_random`` has no data (it offered three 0-byte files and a plot that 404'd) and
``mixed_fitting`` draws no plot (its page showed one that 404'd).
"""

from __future__ import annotations

import re

import pytest

from service.models import AssignmentProblem, StoredVariant
from service.services import tokens
from service.services.problems import sync_builtin
from tests.service.web_world import as_user, build_world

BUILTIN = [
    "simple_regression",
    "additive_dose",
    "interaction_dose",
    "logistic_cod",
    "poisson_zeros",
    "which_random",
    "mixed_reading",
    "mixed_fitting",
    "random_slope",
]
_LINK = re.compile(r'(?:href|src)="(/variants/\d+/[^"]+)"')


@pytest.fixture
def world(db_session):
    world = build_world(db_session)
    problems = {p.slug: p for p in sync_builtin(db_session)}
    assert sorted(problems) == sorted(BUILTIN), "a new built-in problem: add it here"
    items = {"simple_regression": world.item}
    for position, slug in enumerate(BUILTIN[1:], start=2):
        item = AssignmentProblem(
            assignment=world.assignment, problem=problems[slug], position=position, points=10
        )
        db_session.add(item)
        items[slug] = item
    db_session.commit()
    world.items = items  # type: ignore[attr-defined]
    return world


@pytest.mark.parametrize("slug", BUILTIN)
def test_every_offered_link_answers_200_with_a_body(client, world, slug):
    as_user(client, "alice")
    html = client.get(f"/items/{world.items[slug].id}").get_data(as_text=True)
    links = _LINK.findall(html)
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, (slug, link, response.status_code)
        assert response.data, (slug, link)
    names = {link.rsplit("/", 1)[1] for link in links}
    if slug == "which_random":  # a design question: no data, no files, no plot
        assert names == set()
        assert 'id="plot-h"' not in html
    elif slug == "mixed_fitting":
        assert names == {"data.csv", "fit.R", "fit.py"}
    else:
        assert names == {"plot.png", "data.csv", "fit.R", "fit.py"}


def test_what_is_not_offered_is_404(client, world, db_session):
    as_user(client, "alice")
    client.get(f"/items/{world.items['which_random'].id}")
    client.get(f"/items/{world.items['mixed_fitting'].id}")
    by_problem = {
        v.assignment_problem.problem.slug: v
        for v in db_session.query(StoredVariant).filter(
            StoredVariant.user_id == world.users["alice"].id
        )
    }
    design, no_plot = by_problem["which_random"], by_problem["mixed_fitting"]
    for name in ("data.csv", "fit.R", "fit.py"):
        assert client.get(f"/variants/{design.id}/files/{name}").status_code == 404
    assert client.get(f"/variants/{design.id}/plot.png").status_code == 404
    assert client.get(f"/variants/{no_plot.id}/plot.png").status_code == 404


@pytest.mark.parametrize("slug", BUILTIN)
def test_api_lists_only_files_and_plots_that_exist(client, world, db_session, slug):
    secret = tokens.create(db_session, world.users["alice"], name="files")[1]
    auth = {"Authorization": f"Bearer {secret}"}
    response = client.post(f"/api/v1/items/{world.items[slug].id}/variants", json={}, headers=auth)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    urls = [f["url"] for f in body["files"]]
    if body["plot_url"] is not None:
        urls.append(body["plot_url"])
    if body["data_url"] is not None:
        urls.append(body["data_url"])
    for url in urls:
        got = client.get(url, headers=auth)
        assert got.status_code == 200, (slug, url, got.get_json())
        assert got.data, (slug, url)
    if slug == "which_random":
        assert body["files"] == [] and body["plot_url"] is None and body["data_url"] is None
        missing = client.get(f"/api/v1/variants/{body['id']}/data.csv", headers=auth)
        assert missing.status_code == 404
    elif slug == "mixed_fitting":
        assert body["plot_url"] is None and len(body["files"]) == 3
    else:
        assert body["plot_url"] is not None and len(body["files"]) == 3
