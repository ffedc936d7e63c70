"""The REST API of one student's work: the detail, overrides, exceptions, new versions and
the audit log, instructors of the course only, with problem details for bad input."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from service.models import AssignmentException, ScoreOverride
from service.services import tokens
from tests.conftest import settings_on
from tests.service.test_student_work import PARTS, _graded
from tests.service.web_world import World, build_world

API = "/api/v1"


@pytest.fixture
def settings(request, tmp_path):
    return settings_on("postgresql", request, tmp_path)


@pytest.fixture
def world(db_session) -> World:
    return build_world(db_session)


def _auth(db_session, world: World, who: str) -> dict[str, str]:
    secret = tokens.create(db_session, world.users[who], name=f"{who} test")[1]
    return {"Authorization": f"Bearer {secret}"}


def _routes(world: World, submission_id: int) -> list[tuple[str, str, dict | None]]:
    a, item, alice = world.assignment.id, world.item.id, world.users["alice"].id
    reason = {"reason": "r"}
    return [
        ("GET", f"{API}/items/{item}/students/{alice}", None),
        ("POST", f"{API}/submissions/{submission_id}/overrides", {"points": 1, **reason}),
        ("DELETE", f"{API}/submissions/{submission_id}/overrides", reason),
        ("POST", f"{API}/items/{item}/students/{alice}/new-version", reason),
        ("GET", f"{API}/assignments/{a}/exceptions", None),
        ("GET", f"{API}/assignments/{a}/exceptions/{alice}", None),
        ("PUT", f"{API}/assignments/{a}/exceptions/{alice}", {"extra_attempts": 1, **reason}),
        ("DELETE", f"{API}/assignments/{a}/exceptions/{alice}", reason),
        ("GET", f"{API}/courses/{world.course.id}/audit", None),
    ]


@pytest.mark.parametrize(("who", "status"), [("alice", 403), ("other_teacher", 404)])
def test_students_get_403_and_other_instructors_404_everywhere(
    client, db_session, world, who, status
):
    submission = _graded(db_session, world, {"slope": 1.0})
    headers = _auth(db_session, world, who)
    for method, url, body in _routes(world, submission.id):
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code == status, (method, url, response.get_json())
        assert response.mimetype == "application/problem+json"
    assert db_session.scalar(select(func.count()).select_from(ScoreOverride)) == 0


def test_the_detail_as_json_has_attempts_answers_feedback_and_overrides(client, db_session, world):
    first = _graded(db_session, world, {"slope": 1.0})
    headers = _auth(db_session, world, "teacher")
    saved = client.post(
        f"{API}/submissions/{first.id}/overrides",
        json={"part_id": "intercept", "points": 1.5, "reason": "close enough"},
        headers=headers,
    )
    assert saved.status_code == 201, saved.get_json()
    assert saved.get_json()["points"] == 1.5
    url = f"{API}/items/{world.item.id}/students/{world.users['alice'].id}"
    body = client.get(url, headers=headers).get_json()
    assert body["standing"]["points"] == pytest.approx(3.5)
    assert body["standing"]["overridden"] and body["standing"]["policy"] == "best"
    [version] = body["versions"]
    [attempt] = version["attempts"]
    parts = {p["id"]: p for p in attempt["parts"]}
    assert list(parts) == list(PARTS)
    assert parts["intercept"]["answer"] == "typed intercept 1"
    assert parts["intercept"]["misconception"] == "slope_for_intercept"
    assert parts["intercept"]["override"]["reason"] == "close enough"
    assert parts["intercept"]["points"] == 1.5 and parts["slope"]["points"] == 2
    removed = client.delete(
        f"{API}/submissions/{first.id}/overrides",
        json={"part_id": "intercept", "reason": "no"},
        headers=headers,
    )
    assert removed.status_code == 204
    assert client.get(url, headers=headers).get_json()["standing"]["points"] == 2
    events = client.get(f"{API}/courses/{world.course.id}/audit", headers=headers).get_json()
    assert [e["action"] for e in events["events"]] == ["override_removed", "score_override"]
    bob = world.users["bob"].id
    none = client.get(f"{API}/courses/{world.course.id}/audit?student={bob}", headers=headers)
    assert none.get_json()["events"] == []


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"part_id": "intercept", "points": -1, "reason": "x"}, 422, "between 0 and 2"),
        ({"part_id": "intercept", "points": 3, "reason": "x"}, 422, "between 0 and 2"),
        ({"part_id": "nope", "points": 1, "reason": "x"}, 422, "no part"),
        ({"part_id": "intercept", "points": 1, "reason": " "}, 422, "reason"),
        ({"part_id": "intercept", "points": 1}, 422, "reason"),
        ({"part_id": "intercept", "points": "many", "reason": "x"}, 422, "points"),
    ],
)
def test_a_bad_override_is_a_4xx_with_a_message(client, db_session, world, body, status, message):
    first = _graded(db_session, world, {"slope": 1.0})
    response = client.post(
        f"{API}/submissions/{first.id}/overrides",
        json=body,
        headers=_auth(db_session, world, "teacher"),
    )
    assert response.status_code == status, response.get_json()
    assert message in str(response.get_json())
    missing = client.delete(
        f"{API}/submissions/{first.id}/overrides",
        json={"part_id": "slope", "reason": "x"},
        headers=_auth(db_session, world, "teacher"),
    )
    assert missing.status_code == 404


def test_concurrent_override_requests_never_500(app, db_session, world):
    first = _graded(db_session, world, {"slope": 1.0})
    headers = _auth(db_session, world, "teacher")
    statuses: list[int] = []
    barrier = threading.Barrier(5)

    def post(n: int) -> None:
        with app.test_client() as c:
            barrier.wait()
            statuses.append(
                c.post(
                    f"{API}/submissions/{first.id}/overrides",
                    json={"part_id": "slope", "points": n % 3, "reason": f"r{n}"},
                    headers=headers,
                ).status_code
            )

    threads = [threading.Thread(target=post, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [201] * 5
    assert db_session.scalar(select(func.count()).select_from(ScoreOverride)) == 1


def test_exceptions_put_get_list_delete(client, db_session, world):
    headers = _auth(db_session, world, "teacher")
    alice = world.users["alice"].id
    url = f"{API}/assignments/{world.assignment.id}/exceptions/{alice}"
    assert client.get(url, headers=headers).status_code == 404
    due = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
    put = client.put(
        url,
        json={"due_at": due.isoformat(), "extra_attempts": 2, "reason": "accommodation"},
        headers=headers,
    )
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["extra_attempts"] == 2
    got = client.get(url, headers=headers).get_json()
    assert datetime.fromisoformat(got["due_at"]) == due
    listed = client.get(f"{API}/assignments/{world.assignment.id}/exceptions", headers=headers)
    assert [e["user"]["id"] for e in listed.get_json()["exceptions"]] == [alice]
    detail = client.get(f"{API}/items/{world.item.id}/students/{alice}", headers=headers)
    assert detail.get_json()["standing"]["attempts_allowed"] == 5
    bad = client.put(url, json={"extra_attempts": 500, "reason": "x"}, headers=headers)
    assert bad.status_code == 422
    nothing = client.put(url, json={"reason": "x"}, headers=headers)
    assert nothing.status_code == 422 and "Give a due date" in str(nothing.get_json())
    outsider = world.users["outsider"].id
    elsewhere = f"{API}/assignments/{world.assignment.id}/exceptions/{outsider}"
    assert (
        client.put(
            elsewhere, json={"extra_attempts": 1, "reason": "x"}, headers=headers
        ).status_code
        == 404
    )
    assert client.delete(url, json={"reason": "better"}, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404
    assert client.delete(url, json={"reason": "again"}, headers=headers).status_code == 404


def test_a_new_version_through_the_api(client, db_session, world):
    first = _graded(db_session, world, {"slope": 1.0})
    headers = _auth(db_session, world, "teacher")
    url = f"{API}/items/{world.item.id}/students/{world.users['alice'].id}/new-version"
    assert client.post(url, json={}, headers=headers).status_code == 422
    given = client.post(url, json={"reason": "bad draw"}, headers=headers)
    assert given.status_code == 201, given.get_json()
    assert given.get_json()["version"] == 2 and given.get_json()["variant_id"] != first.variant_id
    bob = f"{API}/items/{world.item.id}/students/{world.users['bob'].id}/new-version"
    assert client.post(bob, json={"reason": "x"}, headers=headers).status_code == 409


def test_every_route_is_in_the_openapi_document(client):
    paths = client.get(f"{API}/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/items/{item_id}/students/{user_id}",
        "/api/v1/items/{item_id}/students/{user_id}/new-version",
        "/api/v1/submissions/{submission_id}/overrides",
        "/api/v1/assignments/{assignment_id}/exceptions",
        "/api/v1/assignments/{assignment_id}/exceptions/{user_id}",
        "/api/v1/courses/{course_id}/audit",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/submissions/{submission_id}/overrides"]) >= {"post", "delete"}


def test_concurrent_exception_puts_never_500_and_leave_one_row(app, db_session, world):
    headers = _auth(db_session, world, "teacher")
    url = f"{API}/assignments/{world.assignment.id}/exceptions/{world.users['alice'].id}"
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def put(n: int) -> None:
        with app.test_client() as c:
            barrier.wait()
            body = {"extra_attempts": n + 1, "reason": f"r{n}"}
            statuses.append(c.put(url, json=body, headers=headers).status_code)

    threads = [threading.Thread(target=put, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert set(statuses) <= {200, 409} and 200 in statuses, statuses
    count = db_session.scalar(select(func.count()).select_from(AssignmentException))
    assert count == 1
