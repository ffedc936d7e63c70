"""GET /api/v1/assignments/<id>/unrecognised: the groups as JSON, instructors only."""

from __future__ import annotations

import pytest

from service.services import tokens
from tests.conftest import settings_on
from tests.service.unrecognised_world import PERCENT, UnrecognisedWorld, build

API = "/api/v1"


@pytest.fixture
def settings(request, tmp_path):
    return settings_on("postgresql", request, tmp_path)


@pytest.fixture
def uw(db_session) -> UnrecognisedWorld:
    return build(db_session)


def _auth(db_session, uw: UnrecognisedWorld, who: str) -> dict[str, str]:
    secret = tokens.create(db_session, uw.world.users[who], name=f"{who} test")[1]
    return {"Authorization": f"Bearer {secret}"}


def test_instructor_gets_groups_with_the_best_candidate(client, db_session, uw):
    url = f"{API}/assignments/{uw.world.assignment.id}/unrecognised"
    body = client.get(url, headers=_auth(db_session, uw, "teacher")).get_json()
    (item,) = body["items"]
    slope = next(p for p in item["parts"] if p["id"] == "slope")
    first = slope["groups"][0]
    assert first["candidate"]["expression"] == PERCENT
    assert (first["count"], first["explained"], first["offered"]) == (2, 2, True)
    assert next(p for p in item["parts"] if p["id"] == "decision")["skipped"]


@pytest.mark.parametrize(("who", "status"), [("alice", 403), ("other_teacher", 404)])
def test_students_get_403_and_other_courses_404(client, db_session, uw, who, status):
    url = f"{API}/assignments/{uw.world.assignment.id}/unrecognised"
    response = client.get(url, headers=_auth(db_session, uw, who))
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"


def test_unknown_assignment_is_404_and_the_route_is_documented(client, db_session, uw):
    response = client.get(
        f"{API}/assignments/999999/unrecognised", headers=_auth(db_session, uw, "teacher")
    )
    assert response.status_code == 404
    doc = client.get(f"{API}/openapi.json").get_json()
    path = doc["paths"]["/api/v1/assignments/{assignment_id}/unrecognised"]["get"]
    assert "Unrecognised" in str(path["responses"]["200"])
