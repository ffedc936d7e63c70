"""Hostile JSON bodies on every body-taking route of the API: a 400 or 422, never a 500.

The routes and their body fields come from the OpenAPI document, so a route added later is
sent the same bodies without anyone adding it here.
"""

from __future__ import annotations

import re

import pytest

from service import request_input
from tests.api.conftest import ApiWorld

API = "/api/v1"
DEEP = "[" * 100_000 + "]" * 100_000
HUGE_INT = "7" * 5000


def body_routes(client) -> list[tuple[str, str, list[str]]]:
    """(method, path template, top-level body fields) of each POST/PUT/PATCH route."""
    doc = client.get(f"{API}/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    routes = []
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "put", "patch"):
                continue
            content = operation["requestBody"]["content"]
            if "application/json" not in content:
                continue  # a zip upload: tests/api/test_problem_transfer_api.py
            schema = content["application/json"]["schema"]
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else schema
            routes.append((method.upper(), path, sorted(schema.get("properties", {}))))
    return routes


def hostile_bodies(fields: list[str]) -> list[tuple[str, str | bytes, int]]:
    """(name, raw body, expected status) with each hostile value in every field.

    The 100,000-deep value goes in one field only: in each it would pass the upload limit.
    """

    def each(value: str) -> str:
        return "{" + ", ".join(f'"{name}": {value}' for name in fields) + "}"

    return [
        ("lone surrogate", each('"x\\ud800y"'), 422),
        ("NUL character", each('"x\\u0000y"'), 422),
        ("surrogate in a nested key", each('{"\\udfff": 1}'), 422),
        ("surrogate in a list", each('["ok", "\\ud83d"]'), 422),
        ("5,000-digit integer", each(HUGE_INT), 400),
        ("5,000-digit integer, nested", each(f'{{"a": [{HUGE_INT}]}}'), 400),
        ("1e999", each("1e999"), 400),
        ("NaN", each("NaN"), 400),
        ("nested 100,000 deep", '{"' + fields[0] + '": ' + DEEP + "}", 400),
        ("whole body nested 100,000 deep", DEEP, 400),
        ("nested 40 deep", each("[" * 40 + "]" * 40), 400),
        ("not UTF-8", b'{"spec": "\xff"}', 400),
        ("truncated", each('"x'), 400),
    ]


@pytest.fixture
def variant_id(client, world: ApiWorld) -> int:
    issued = client.post(
        f"{API}/items/{world.item.id}/variants", json={}, headers=world.auth("alice")
    )
    assert issued.status_code in (200, 201), issued.get_data(as_text=True)
    return issued.get_json()["id"]


def test_every_body_route_refuses_hostile_json_with_problem_details(
    client, world: ApiWorld, variant_id: int
):
    ids = {"course_id": world.course.id, "item_id": world.item.id, "variant_id": variant_id}
    routes = body_routes(client)
    assert len(routes) >= 5, routes
    failures = []
    for method, template, fields in routes:
        path = re.sub(r"{(\w+)}", lambda m: str(ids.get(m[1], 1)), template)
        for name, text, status in hostile_bodies(fields):
            for who in ("teacher", "alice"):
                response = client.open(
                    path,
                    method=method,
                    data=text,
                    headers={**world.auth(who), "Content-Type": "application/json"},
                )
                got = response.status_code
                if got != status or response.mimetype != "application/problem+json":
                    failures.append(f"{method} {path} {name} as {who} → {got}")
    assert not failures, "\n".join(failures)


def test_a_lone_surrogate_in_a_spec_is_a_422_naming_the_field(client, world: ApiWorld):
    response = client.post(
        f"{API}/problems",
        data='{"spec": "id: x\\ntitle: \\ud800"}',
        headers={**world.auth("teacher"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert body["detail"].startswith("The request is not valid: json.spec: ")
    assert "lone surrogate (\\ud800 at character 13)" in body["detail"]
    assert list(body["errors"]["json"]) == ["spec"]


def test_a_huge_integer_answer_is_a_400_that_says_why(client, world: ApiWorld, variant_id):
    response = client.post(
        f"{API}/variants/{variant_id}/submissions",
        data='{"answers": {"slope": ' + HUGE_INT + "}}",
        headers={**world.auth("alice"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["detail"] == (
        "The JSON body cannot be read: a number has more than 100 digits."
    )


def test_the_app_json_provider_reads_with_the_same_limits(app):
    assert app.json.loads('{"a": [1, 2.5, "b"]}') == {"a": [1, 2.5, "b"]}
    for text in (DEEP, HUGE_INT, "NaN", "[1e999]"):
        with pytest.raises(request_input.MalformedBody):
            app.json.loads(text)


def test_ordinary_bodies_are_untouched(client, world: ApiWorld):
    """Nesting at the limit, long numbers below it and any valid Unicode still pass."""
    assert request_input.loads("[" * request_input.MAX_DEPTH + "]" * request_input.MAX_DEPTH)
    assert request_input.loads("9" * request_input.MAX_NUMBER_CHARS) == int("9" * 100)
    assert request_input.unstorable_text({"a": ["é 😀 \\ud800 as text", {"b": "ok"}]}) is None
    created = client.post(
        f"{API}/courses/{world.course.id}/enrollments",
        data='{"email": "zoe@api.test", "name": "Zo\\u00eb \\ud83d\\ude00", "role": "student"}',
        headers={**world.auth("teacher"), "Content-Type": "application/json"},
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["user"]["name"] == "Zoë 😀"
