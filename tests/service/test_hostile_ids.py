"""Ids no row can have, on every route that takes an integer: a 404, never a 500.

The routes are read from the app's url_map, so a route added later is covered without
anyone remembering to add it here.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from werkzeug.routing import IntegerConverter

from service.routing import MAX_ROW_ID, RowId, row_id
from service.services import tokens
from tests.service.web_world import as_user, build_world

HOSTILE_IDS = [str(2**63), str(2**64), str(10**30), str(MAX_ROW_ID + 1), "-1", "0", "9" * 5000]
ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def integer_routes(app: Flask) -> list[tuple[str, list[str], list[str]]]:
    """(rule, its integer arguments, its methods) for every rule that takes an integer."""
    routes = []
    for rule in app.url_map.iter_rules():
        integers = [
            m["name"]
            for m in ARGUMENT.finditer(rule.rule)
            if issubclass(app.url_map.converters[m["converter"] or "default"], IntegerConverter)
        ]
        if integers:
            methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
            routes.append((rule.rule, integers, methods))
    return routes


def fill(rule: str, integers: list[str], bad: str) -> str:
    """The rule's path with ``bad`` for one integer argument and harmless values elsewhere."""
    first = integers[0]

    def value(match: re.Match[str]) -> str:
        if match["name"] == first:
            return bad
        return "1" if match["name"] in integers else "x"

    return ARGUMENT.sub(value, rule)


def test_int_and_id_are_the_bounded_row_id_everywhere(app):
    assert app.url_map.converters["int"] is RowId
    assert app.url_map.converters["id"] is RowId
    routes = integer_routes(app)
    prefixes = {rule.split("/")[1] for rule, _, _ in routes}
    # The web pages, the instructor pages, LTI and the API all take ids in their paths.
    assert {"items", "variants", "courses", "teach", "lti", "api"} <= prefixes, prefixes
    for rule in app.url_map.iter_rules():
        for name in ARGUMENT.finditer(rule.rule):
            converter = app.url_map.converters[name["converter"] or "default"]
            if issubclass(converter, IntegerConverter):
                assert issubclass(converter, RowId), rule.rule


@pytest.mark.parametrize("bad", HOSTILE_IDS, ids=lambda v: v if len(v) < 40 else "5000-digits")
def test_every_integer_route_answers_404_to_an_id_no_row_can_have(app, db_session, bad):
    world = build_world(db_session)
    client = as_user(app.test_client(), "teacher")
    app.config["WTF_CSRF_ENABLED"] = False  # so a POST reaches the view as a valid form would
    _token, secret = tokens.create(db_session, world.users["teacher"], name="ids")
    headers = {"Authorization": f"Bearer {secret}"}
    failures = []
    for rule, integers, methods in integer_routes(app):
        path = fill(rule, integers, bad)
        for method in methods:
            response = client.open(path, method=method, headers=headers, json={})
            if response.status_code not in (404, 405):
                failures.append(f"{method} {path[:80]} → {response.status_code}")
            elif rule.startswith("/api/"):
                assert response.mimetype == "application/problem+json"
    assert not failures, "\n".join(failures)


def test_a_route_may_narrow_the_range_but_not_widen_it(app):
    converter = RowId(app.url_map, min=-5, max=2**70)
    assert (converter.min, converter.max) == (1, MAX_ROW_ID)
    narrow = RowId(app.url_map, min=3, max=10)
    assert (narrow.min, narrow.max) == (3, 10)


def test_ids_from_forms_and_claims_get_the_same_bound():
    assert [row_id(v) for v in ("1", " 42 ", 7, str(MAX_ROW_ID))] == [1, 42, 7, MAX_ROW_ID]
    for bad in (None, "", "0", "-1", str(MAX_ROW_ID + 1), str(2**63), "9" * 5000, "１２", "1e3"):
        assert row_id(bad) is None, bad
