"""Schemathesis against the live WSGI app: no 5xx and no response that breaks the document.

The document is the one the app serves (/api/v1/openapi.json), loaded through the app
itself. Every operation gets valid and invalid requests; they carry an instructor's
token so they get past authentication, and each is sent a second time with its path ids
pointing at real rows, so the resource code itself is exercised and not only the 404s.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from service.services import tokens
from tests.api.conftest import build_api_world


@schemathesis.serializer("application/zip")
def _zip_body(_context: schemathesis.SerializationContext, value: object) -> dict[str, bytes]:
    """A zip upload's body as generated: bytes sent as they are (anything else as text)."""
    return {"data": value if isinstance(value, bytes) else str(value).encode()}


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_api_has_no_server_errors_and_keeps_its_schema(app, db_session):
    world = build_api_world(db_session, attempts=50)
    _row, secret = tokens.create(db_session, world.users["teacher"], name="schemathesis")
    headers = {"Authorization": f"Bearer {secret}"}
    client = app.test_client()
    variant = client.post(f"/api/v1/items/{world.item.id}/variants", json={}, headers=headers)
    variant_id = variant.get_json()["id"]
    part = variant.get_json()["parts"][0]["id"]
    submitted = client.post(
        f"/api/v1/variants/{variant_id}/submissions", json={"answers": {part: "1"}}, headers=headers
    )
    assert submitted.status_code == 202, submitted.get_data(as_text=True)
    real_ids = {
        "course_id": world.course.id,
        "assignment_id": world.assignment.id,
        "item_id": world.item.id,
        "problem_id": world.problem.id,
        "variant_id": variant_id,
        "submission_id": submitted.get_json()["id"],
    }
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    strategies = [
        op.as_strategy(generation_mode=mode)
        for op in operations
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]

    for strategy in strategies:

        @given(case=strategy)
        @settings(
            max_examples=8,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)
            if case.path_parameters:
                case.path_parameters = {
                    name: real_ids.get(name, value) for name, value in case.path_parameters.items()
                }
                case.call_and_validate(headers=headers, checks=CHECKS)

        exercise()
