"""Editing an assignment through the REST API: settings, items added, removed (deleted or
archived), reordered and re-pointed; roles, token scope, 4xx for bad input, OpenAPI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.models import AssignmentProblem, Course, Enrollment, Role, Submission
from service.services import tokens
from service.services.problems import sync_builtin
from tests.api.conftest import ApiWorld
from tests.api.test_api import API, _problem
from tests.service.test_assignment_editing import submitted


def _url(world: ApiWorld, tail: str = "") -> str:
    return f"{API}/assignments/{world.assignment.id}{tail}"


def test_patch_settings_and_the_version_guard(client, db_session, world: ApiWorld):
    read = client.get(_url(world), headers=world.auth("teacher")).get_json()
    assert read["score_policy"] == "best" and read["version"]
    due = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    response = client.patch(
        _url(world),
        json={
            "due_at": due.isoformat(),
            "score_policy": "last",
            "attempts_allowed": 2,
            "version": read["version"],
        },
        headers=world.auth("teacher"),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["score_policy"] == "last" and body["attempts_allowed"] == 2
    assert datetime.fromisoformat(body["due_at"]) == due
    assert body["title"] == "Homework 1"  # left out: kept
    stale = client.patch(
        _url(world),
        json={"title": "Again", "version": read["version"]},
        headers=world.auth("teacher"),
    )
    assert "reload" in _problem(stale, 409)["detail"]
    late = (due - timedelta(days=1)).isoformat()
    bad = _problem(
        client.patch(_url(world), json={"late_until": late}, headers=world.auth("teacher")), 422
    )
    assert "late_until" in bad["errors"]
    _problem(
        client.patch(_url(world), json={"score_policy": "worst"}, headers=world.auth("teacher")),
        422,
    )
    _problem(
        client.patch(_url(world), json={"late_penalty": 2}, headers=world.auth("teacher")), 422
    )
    _problem(client.patch(_url(world), json={"title": "x"}, headers=world.auth("alice")), 403)
    _problem(client.patch(_url(world), json={"title": "x"}, headers=world.auth("outsider")), 404)


def test_a_token_scoped_to_another_course_cannot_edit(client, db_session, world: ApiWorld):
    elsewhere = Course(code="API-3", title="Third")
    db_session.add_all(
        [elsewhere, Enrollment(user=world.users["teacher"], course=elsewhere, role=Role.instructor)]
    )
    db_session.commit()
    _, secret = tokens.create(
        db_session, world.users["teacher"], name="narrow", courses=[elsewhere]
    )
    narrow = {"Authorization": f"Bearer {secret}"}
    _problem(client.patch(_url(world), json={"title": "x"}, headers=narrow), 404)
    _problem(
        client.put(_url(world, "/items/order"), json={"order": [world.item.id]}, headers=narrow),
        404,
    )


def test_items_added_reordered_repointed_and_removed(client, db_session, world: ApiWorld):
    problems = {p.slug: p for p in sync_builtin(db_session)}
    teacher = world.auth("teacher")
    added = client.post(
        _url(world, "/items"),
        json={"problem_id": problems["additive_dose"].id, "points": 5},
        headers=teacher,
    )
    assert added.status_code == 201, added.get_data(as_text=True)
    new = added.get_json()
    assert new["position"] == 2 and new["points"] == 5 and new["archived_at"] is None
    _problem(client.post(_url(world, "/items"), json={"problem_id": 999_999}, headers=teacher), 422)

    order = client.put(
        _url(world, "/items/order"), json={"order": [new["id"], world.item.id]}, headers=teacher
    )
    assert [i["id"] for i in order.get_json()["items"]] == [new["id"], world.item.id]
    _problem(
        client.put(_url(world, "/items/order"), json={"order": [new["id"]]}, headers=teacher), 409
    )
    twice = {"order": [new["id"], new["id"], world.item.id]}
    _problem(client.put(_url(world, "/items/order"), json=twice, headers=teacher), 422)
    _problem(client.put(_url(world, "/items/order"), json={"order": "x"}, headers=teacher), 422)

    parts = list(client.get(_url(world), headers=teacher).get_json()["items"][1]["part_points"])
    repointed = client.patch(
        _url(world, f"/items/{world.item.id}"), json={"part_points": {parts[0]: 7}}, headers=teacher
    )
    assert repointed.status_code == 200, repointed.get_data(as_text=True)
    assert repointed.get_json()["part_points"][parts[0]] == 7
    total = client.patch(
        _url(world, f"/items/{world.item.id}"), json={"points": 12}, headers=teacher
    )
    assert total.get_json()["points"] == 12
    _problem(
        client.patch(
            _url(world, f"/items/{world.item.id}"),
            json={"part_points": {"nope": 1}},
            headers=teacher,
        ),
        422,
    )
    _problem(client.patch(_url(world, f"/items/{world.item.id}"), json={}, headers=teacher), 422)
    _problem(
        client.patch(_url(world, f"/items/{world.item.id}"), json={"points": -3}, headers=teacher),
        422,
    )
    _problem(client.patch(_url(world, "/items/999999"), json={"points": 3}, headers=teacher), 404)

    # With a submission the item is archived (200) and the submission kept; without, 204.
    sub = submitted(db_session, world)
    archived = client.delete(_url(world, f"/items/{world.item.id}"), headers=teacher)
    assert archived.status_code == 200 and archived.get_json()["archived_at"]
    assert db_session.get(Submission, sub.id) is not None
    assert client.delete(_url(world, f"/items/{new['id']}"), headers=teacher).status_code == 204
    db_session.expire_all()
    assert db_session.get(AssignmentProblem, new["id"]) is None
    _problem(client.delete(_url(world, f"/items/{world.item.id}"), headers=teacher), 409)
    _problem(
        client.delete(_url(world, f"/items/{world.item.id}"), headers=world.auth("alice")), 403
    )


def test_the_editing_routes_are_in_the_openapi_document(client):
    paths = client.get(f"{API}/openapi.json").get_json()["paths"]
    assert "patch" in paths["/api/v1/assignments/{assignment_id}"]
    assert "post" in paths["/api/v1/assignments/{assignment_id}/items"]
    assert "put" in paths["/api/v1/assignments/{assignment_id}/items/order"]
    item = paths["/api/v1/assignments/{assignment_id}/items/{item_id}"]
    assert {"patch", "delete"} <= set(item)
    assert {"200", "204"} <= set(item["delete"]["responses"])


def test_create_and_edit_share_the_settings_rule(client, world: ApiWorld):
    """The dates' order is the forms' rule (teaching.check_settings), on create too."""
    due = datetime.now(UTC) + timedelta(days=3)
    body = {
        "title": "Week 2",
        "due_at": due.isoformat(),
        "late_until": (due - timedelta(hours=1)).isoformat(),
        "problems": [{"problem_id": world.problem.id}],
    }
    url = f"{API}/courses/{world.course.id}/assignments"
    refused = _problem(client.post(url, json=body, headers=world.auth("teacher")), 422)
    assert refused["errors"] == {"late_until": "The late cut-off must be after the due date."}
    blank = _problem(
        client.post(url, json={**body, "title": "  "}, headers=world.auth("teacher")), 422
    )
    assert "title" in blank["errors"]
