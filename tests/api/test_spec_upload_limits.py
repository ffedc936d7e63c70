"""POST /api/v1/problems with hostile YAML or unbounded expressions: 422 problem+json with
the line and field, fast, never a 500 (issue 11, §4)."""

from __future__ import annotations

import json
import time

import pytest

from service.services.problems import builtin_spec_texts
from tests.api.conftest import ApiWorld

API = "/api/v1"
_BOMB = "".join(
    f"{name}: &{name} [{', '.join([prev] * 9)}]\n"
    for name, prev in zip("abcdefg", ['"lol"', "*a", "*b", "*c", "*d", "*e", "*f"], strict=True)
)


def _mine() -> str:
    text = builtin_spec_texts()["01_simple_regression.yaml"]
    return text.replace("id: simple_regression", "id: api_limits", 1)


@pytest.mark.parametrize(
    ("spec", "line", "reason"),
    [
        (_BOMB, 5, "more than 10,000 values"),
        ("a: &a [*a]\n", 1, "an alias refers to a value that contains it"),
        ("a: " + "[" * 900 + "]" * 900 + "\n", 1, "nested deeper than 32 levels"),
        ("id: x\nb: !!python/name:os.system\n", 2, "tag !!python/name:os.system"),
        ("id: x\nb: !foo bar\n", 2, "tag !foo is not allowed"),
        ("b: &b {x: 1}\na: {<<: *b}\n", 2, "merge keys (<<) are not supported"),
        (_mine().replace("  n: [30, 80]", "  n: 2000000"), 12, "less than or equal to 5000"),
    ],
)
def test_hostile_spec_upload_is_422_with_line(client, world: ApiWorld, spec, line, reason):
    t0 = time.perf_counter()
    response = client.post(f"{API}/problems", json={"spec": spec}, headers=world.auth("teacher"))
    assert time.perf_counter() - t0 < 5
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == "urn:mixgrade:problem:invalid-spec"
    assert body["errors"][0]["line"] == line and reason in body["errors"][0]["message"]


def test_a_lone_surrogate_in_a_spec_is_refused_not_a_500(client, world: ApiWorld):
    """JSON may carry "\\ud800", which no UTF-8 text holds: it used to crash the size check."""
    raw = json.dumps({"spec": "id: x\ntitle: PLACEHOLDER\n"}).replace("PLACEHOLDER", "\\ud800")
    response = client.post(
        f"{API}/problems",
        data=raw,
        content_type="application/json",
        headers=world.auth("teacher"),
    )
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
