"""The REST API through the WSGI app: tokens and scope, each resource, errors and paging."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from service.models import ApiToken, Submission
from service.services import tokens
from service.services.problems import builtin_spec_texts
from tests.api.conftest import ApiWorld

API = "/api/v1"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body


# ------------------------------------------------------------------------------ tokens


def test_no_token_unknown_token_and_revoked_token_get_401(client, db_session, world: ApiWorld):
    body = _problem(client.get(f"{API}/courses"), 401)
    assert "Bearer" in body["detail"]
    _problem(client.get(f"{API}/courses", headers={"Authorization": "Bearer mgt_nope"}), 401)
    assert client.get(f"{API}/me", headers=world.auth("alice")).status_code == 200
    token = db_session.scalar(select(ApiToken).where(ApiToken.user_id == world.users["alice"].id))
    tokens.revoke(db_session, token.id)
    body = _problem(client.get(f"{API}/me", headers=world.auth("alice")), 401)
    assert "revoked" in body["detail"]


def test_tokens_are_stored_hashed(db_session, world: ApiWorld):
    stored = db_session.scalars(select(ApiToken.token_hash)).all()
    for secret in world.secrets.values():
        assert secret not in stored
        assert tokens.digest(secret) in stored


def test_token_scope_narrows_the_courses(client, db_session, world: ApiWorld):
    teacher = world.users["teacher"]
    _row, narrow = tokens.create(db_session, teacher, courses=[world.course])
    listed = client.get(f"{API}/courses", headers={"Authorization": f"Bearer {narrow}"})
    assert [c["code"] for c in listed.get_json()["items"]] == ["API-1"]
    # A course the user is not in is out of reach, even for a token naming nothing.
    other = client.get(f"{API}/courses/{world.other.id}", headers=world.auth("teacher"))
    _problem(other, 404)


def test_a_student_cannot_scope_a_token_to_a_course_they_are_not_in(db_session, world):
    import pytest

    with pytest.raises(tokens.TokenRefused, match="not enrolled in API-2"):
        tokens.create(db_session, world.users["alice"], courses=[world.other])


# ----------------------------------------------------------------- courses, enrollments


def test_courses_and_enrollments(client, world: ApiWorld):
    course = client.get(f"{API}/courses/{world.course.id}", headers=world.auth("alice")).get_json()
    assert course == {"id": world.course.id, "code": "API-1", "title": world.course.title,
                      "role": "student"}  # fmt: skip
    _problem(client.get(f"{API}/courses/{world.course.id}/enrollments",
                        headers=world.auth("alice")), 403)  # fmt: skip
    members = client.get(
        f"{API}/courses/{world.course.id}/enrollments?per_page=2", headers=world.auth("teacher")
    ).get_json()
    assert members["total"] == 3 and len(members["items"]) == 2 and members["page"] == 1
    created = client.post(
        f"{API}/courses/{world.course.id}/enrollments",
        json={"email": "Carol@API.test", "name": "Carol", "role": "student"},
        headers=world.auth("teacher"),
    )
    assert created.status_code == 201
    assert created.get_json()["user"]["email"] == "carol@api.test"
    again = client.post(
        f"{API}/courses/{world.course.id}/enrollments",
        json={"email": "carol@api.test", "role": "student"},
        headers=world.auth("teacher"),
    )
    assert again.status_code == 200


def test_validation_errors_name_the_field(client, world: ApiWorld):
    body = _problem(
        client.post(
            f"{API}/courses/{world.course.id}/enrollments",
            json={"email": "not-an-email", "role": "dean"},
            headers=world.auth("teacher"),
        ),
        422,
    )
    assert "json.email" in body["detail"] and "json.role" in body["detail"]
    assert set(body["errors"]["json"]) == {"email", "role"}
    paged = _problem(client.get(f"{API}/courses?per_page=1000", headers=world.auth("alice")), 422)
    assert "per_page" in paged["detail"]


# ----------------------------------------------------------------------------- problems


def test_problems_list_get_and_create_with_the_editors_validation(client, world: ApiWorld):
    _problem(client.get(f"{API}/problems", headers=world.auth("alice")), 403)
    listed = client.get(f"{API}/problems?per_page=100", headers=world.auth("teacher")).get_json()
    assert listed["total"] >= 9
    one = client.get(f"{API}/problems/{world.problem.id}", headers=world.auth("teacher"))
    assert "formula" in one.get_json()["spec"] or one.get_json()["spec"]

    text = builtin_spec_texts()["01_simple_regression.yaml"]
    mine = text.replace("id: simple_regression", "id: api_simple_regression", 1)
    created = client.post(f"{API}/problems", json={"spec": mine}, headers=world.auth("teacher"))
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert (body["slug"], body["version"], body["status"]) == ("api_simple_regression", 1, "draft")

    duplicate = _problem(
        client.post(f"{API}/problems", json={"spec": mine}, headers=world.auth("teacher")), 422
    )
    assert duplicate["type"] == "urn:mixgrade:problem:invalid-spec"
    assert duplicate["errors"][0]["field"] == "id"
    assert "line 1" in duplicate["detail"]

    broken = mine.replace("id: api_simple_regression", "id: other_one", 1).replace(
        "version: 1", "version: one", 1
    )
    bad = _problem(
        client.post(f"{API}/problems", json={"spec": broken}, headers=world.auth("teacher")), 422
    )
    assert bad["errors"][0]["line"] is not None


# -------------------------------------------------------------------------- assignments


def test_assignments_list_get_and_create(client, world: ApiWorld):
    listed = client.get(
        f"{API}/courses/{world.course.id}/assignments", headers=world.auth("alice")
    ).get_json()
    assert [a["title"] for a in listed["items"]] == ["Homework 1"]
    assert listed["items"][0]["items"][0]["problem"]["slug"] == "simple_regression"
    payload = {
        "title": "Homework 2",
        "due_at": "2030-01-01T12:00:00+00:00",
        "attempts_allowed": 2,
        "problems": [{"problem_id": world.problem.id, "points": 5}],
    }
    _problem(client.post(f"{API}/courses/{world.course.id}/assignments", json=payload,
                         headers=world.auth("alice")), 403)  # fmt: skip
    created = client.post(
        f"{API}/courses/{world.course.id}/assignments", json=payload, headers=world.auth("teacher")
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    got = client.get(f"{API}/assignments/{created.get_json()['id']}", headers=world.auth("bob"))
    assert got.get_json()["attempts_allowed"] == 2
    assert got.get_json()["due_at"].startswith("2030-01-01T12:00:00")
    _problem(client.get(f"{API}/assignments/{world.assignment.id}",
                        headers=world.auth("outsider")), 404)  # fmt: skip


# ----------------------------------------------------------------- variants, submissions


def _issue(client, world: ApiWorld, who: str) -> dict:
    response = client.post(f"{API}/items/{world.item.id}/variants", json={},
                           headers=world.auth(who))  # fmt: skip
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return response.get_json()


def test_variant_hides_the_answer_key_from_its_student_but_not_the_instructor(client, world):
    variant = _issue(client, world, "alice")
    assert variant["user_id"] == world.users["alice"].id
    assert variant["output"] and variant["story"] and variant["parts"]
    assert all("answer" not in p and "solution" not in p for p in variant["parts"])
    numeric = [p for p in variant["parts"] if p["kind"] == "numeric"]
    assert numeric and all(p["precision"].startswith("Give 3 significant") for p in numeric)
    assert not variant["solution_visible"]
    again = client.post(f"{API}/items/{world.item.id}/variants", json={},
                        headers=world.auth("alice"))  # fmt: skip
    assert again.status_code == 200 and again.get_json()["id"] == variant["id"]

    seen = client.get(f"{API}/variants/{variant['id']}", headers=world.auth("teacher")).get_json()
    assert all("answer" in p for p in seen["parts"])
    _problem(client.get(f"{API}/variants/{variant['id']}", headers=world.auth("bob")), 404)

    data = client.get(variant["data_url"], headers=world.auth("alice"))
    assert data.mimetype == "text/csv" and data.get_data(as_text=True).count("\n") > 5


def test_instructor_issues_for_a_student_but_a_student_cannot(client, world: ApiWorld):
    bob = world.users["bob"].id
    issued = client.post(f"{API}/items/{world.item.id}/variants", json={"user_id": bob},
                         headers=world.auth("teacher"))  # fmt: skip
    assert issued.status_code == 201 and issued.get_json()["user_id"] == bob
    _problem(client.post(f"{API}/items/{world.item.id}/variants", json={"user_id": bob},
                         headers=world.auth("alice")), 403)  # fmt: skip
    _problem(client.post(f"{API}/items/{world.item.id}/variants",
                         json={"user_id": world.users["outsider"].id},
                         headers=world.auth("teacher")), 422)  # fmt: skip


def test_submission_202_status_url_idempotency_and_unreadable_answers(
    client, db_session, world: ApiWorld
):
    variant = _issue(client, world, "alice")
    part = variant["parts"][0]
    url = f"{API}/variants/{variant['id']}/submissions"
    answers = {part["id"]: "1.5"}
    headers = {**world.auth("alice"), "Idempotency-Key": "try-1"}

    first = client.post(url, json={"answers": answers}, headers=headers)
    assert first.status_code == 202, first.get_data(as_text=True)
    body = first.get_json()
    assert first.headers["Location"] == body["status_url"]
    retried = client.post(url, json={"answers": answers}, headers=headers)
    assert retried.status_code == 202 and retried.get_json()["id"] == body["id"]
    assert db_session.scalar(select(Submission).where(Submission.id == body["id"])) is not None
    count = len(db_session.scalars(select(Submission)).all())
    assert count == 1
    changed = _problem(client.post(url, json={"answers": {part["id"]: "2"}}, headers=headers), 409)
    assert "Idempotency-Key" in changed["detail"]

    status = client.get(body["status_url"], headers=world.auth("alice")).get_json()
    assert status["status"] == "queued" and status["attempt"] == 1
    assert client.get(body["status_url"], headers=world.auth("teacher")).status_code == 200
    _problem(client.get(body["status_url"], headers=world.auth("bob")), 404)

    unreadable = _problem(
        client.post(url, json={"answers": {part["id"]: "twelve-ish"}}, headers=world.auth("alice")),
        422,
    )
    assert part["id"] in unreadable["errors"]
    wrong_part = _problem(
        client.post(url, json={"answers": {"zz": 1}}, headers=world.auth("alice")), 422
    )
    assert "no part 'zz'" in wrong_part["detail"]
    _problem(client.post(url, json={"answers": {}}, headers=world.auth("alice")), 422)
    _problem(client.post(url, json={"answers": {part["id"]: 1}}, headers=world.auth("teacher")),
             403)  # fmt: skip
    assert len(db_session.scalars(select(Submission)).all()) == 1


def test_attempts_run_out_with_a_clear_problem(client, world: ApiWorld):
    variant = _issue(client, world, "bob")
    url = f"{API}/variants/{variant['id']}/submissions"
    answers = {variant["parts"][0]["id"]: "1"}
    for _ in range(world.assignment.attempts_allowed):
        assert client.post(url, json={"answers": answers}, headers=world.auth("bob")).status_code \
            == 202  # fmt: skip
    body = _problem(client.post(url, json={"answers": answers}, headers=world.auth("bob")), 409)
    assert body["type"] == "urn:mixgrade:problem:attempts-exhausted"
    assert "No attempts left" in body["detail"]


# ------------------------------------------------------------------------------- grades


def test_grades_json_and_csv(client, world: ApiWorld):
    _issue(client, world, "alice")
    _problem(client.get(f"{API}/courses/{world.course.id}/grades", headers=world.auth("alice")),
             403)  # fmt: skip
    book = client.get(
        f"{API}/courses/{world.course.id}/grades", headers=world.auth("teacher")
    ).get_json()
    assert [r["user"]["email"] for r in book["rows"]] == ["alice@api.test", "bob@api.test"]
    assert book["columns"][0]["item_id"] == world.item.id
    exported = client.get(
        f"{API}/courses/{world.course.id}/grades.csv", headers=world.auth("teacher")
    )
    assert exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:2] == ["student", "email"] and len(rows) == 3


def test_gradebook_json_has_the_pages_numbers_and_view(client, world: ApiWorld, db_session):
    variant = _issue(client, world, "alice")
    url = f"{API}/variants/{variant['id']}/submissions"
    answers = {variant["parts"][0]["id"]: "1"}
    assert client.post(url, json={"answers": answers}, headers=world.auth("alice")).status_code \
        == 202  # fmt: skip
    base = f"{API}/courses/{world.course.id}/gradebook"
    _problem(client.get(base, headers=world.auth("alice")), 403)
    book = client.get(f"{base}?sort=name&dir=desc", headers=world.auth("teacher")).get_json()
    assert book["view"] == {"assignment_id": None, "sort": "name", "dir": "desc", "q": ""}
    assert [r["user"]["email"] for r in book["rows"]] == ["bob@api.test", "alice@api.test"]
    column = book["columns"][0]
    assert column["item_id"] == world.item.id and column["label"] == "A1·1"
    alice = book["rows"][1]
    cell = alice["cells"][0]
    assert cell["attempts"] == 1 and cell["pending"] and cell["points"] is None
    assert {"overridden", "exception", "late"} <= set(cell)
    assert alice["assignment_totals"] == [
        {"assignment_id": world.assignment.id, "points": 0.0, "possible": book["possible"]}
    ]
    one = client.get(
        f"{base}?assignment_id={world.assignment.id}&q=alice", headers=world.auth("teacher")
    ).get_json()
    assert [r["user"]["email"] for r in one["rows"]] == ["alice@api.test"]
    assert one["view"]["assignment_id"] == world.assignment.id
    for bad in ("abc", "99999999"):
        body = _problem(client.get(f"{base}?assignment_id={bad}", headers=world.auth("teacher")),
                        400)  # fmt: skip
        assert "assignment" in body["detail"]
    exported = client.get(
        f"{API}/courses/{world.course.id}/grades.csv?q=bob", headers=world.auth("teacher")
    )
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["email"] for r in rows] == ["bob@api.test"] and rows[0]["total points"] == "0.00"


def test_openapi_document_lists_every_route_and_needs_no_token(client):
    doc = client.get(f"{API}/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/v1/variants/{variant_id}/submissions", "/api/v1/courses/{course_id}/grades.csv",
            "/api/v1/problems", "/api/v1/courses/{course_id}/gradebook"} \
        <= set(doc["paths"])  # fmt: skip
    book = doc["paths"]["/api/v1/courses/{course_id}/gradebook"]["get"]
    assert {"assignment_id", "sort", "dir", "q", "show"} <= {p["name"] for p in book["parameters"]}
    cell = doc["components"]["schemas"]["GradeCell"]["properties"]
    assert {"overridden", "exception"} <= set(cell)
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    post = doc["paths"]["/api/v1/variants/{variant_id}/submissions"]["post"]
    assert "202" in post["responses"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])


def test_unknown_api_path_and_wrong_method_are_problem_details(client, world: ApiWorld):
    _problem(client.get(f"{API}/nothing-here", headers=world.auth("alice")), 404)
    wrong = client.delete(f"{API}/courses", headers=world.auth("alice"))
    _problem(wrong, 405)
    assert "GET" in wrong.headers["Allow"]
