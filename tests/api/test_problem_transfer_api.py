"""The REST API's problem export (zip and JSON), import and validate: roles, limits,
hostile YAML, all-or-nothing with file:line errors, and a round trip to a fresh database."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import select

import problem_bank
from service import create_app, migrate
from service.config import Settings
from service.models import Course, Enrollment, Problem, Role, User
from service.services import tokens
from service.services.problems import sync_builtin
from tests.hostile_yaml import HOSTILE_YAML
from tests.service.transfer_world import (
    SLUG,
    authored_text,
    course_with_problems,
    instructor,
    misconception_equal_to_answer,
    problem_count,
)

API = "/api/v1"


class Travel:
    """Course TRAVEL-A with its problems, and a token for each kind of caller."""

    def __init__(self, session) -> None:
        self.course, teacher = course_with_problems(session)
        student = User(email="pupil@a.test", name="Pupil", role=Role.student)
        session.add_all([student, Enrollment(user=student, course=self.course, role=Role.student)])
        outsider = instructor(session, "out@else.test", Course(code="ELSE", title="Else"))
        self.users = {"teacher": teacher, "student": student, "outsider": outsider}
        self.secrets = {k: tokens.create(session, u, name=k)[1] for k, u in self.users.items()}

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[who]}"}


@pytest.fixture
def travel(db_session) -> Travel:
    return Travel(db_session)


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def _import(client, travel: Travel, files: list[dict], who: str = "teacher"):
    return client.post(
        f"{API}/courses/{travel.course.id}/problems/import",
        json={"files": files},
        headers=travel.auth(who),
    )


def test_export_zip_holds_the_stored_texts_and_a_manifest(client, travel: Travel, db_session):
    response = client.get(
        f"{API}/courses/{travel.course.id}/problems/export", headers=travel.auth("teacher")
    )
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="TRAVEL-A-problems.zip"'
    )
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == [
        f"{SLUG}.v1.yaml",
        f"{SLUG}.v2.yaml",
        "manifest.json",
        "simple_regression.v1.yaml",
    ]
    stored = db_session.scalar(select(Problem).where(Problem.slug == SLUG, Problem.version == 2))
    assert archive.read(f"{SLUG}.v2.yaml") == stored.spec_text.encode()
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["course"]["code"] == "TRAVEL-A"
    assert {p["sha256"] for p in manifest["problems"]} == {
        p["sha256"]
        for p in client.get(
            f"{API}/courses/{travel.course.id}/problems/export.json",
            headers=travel.auth("teacher"),
        ).get_json()["problems"]
    }


@pytest.mark.parametrize("route", ["export", "export.json"])
def test_export_is_for_the_course_instructors_only(client, travel: Travel, route):
    path = f"{API}/courses/{travel.course.id}/problems/{route}"
    assert (
        "instructors" in _problem(client.get(path, headers=travel.auth("student")), 403)["detail"]
    )
    _problem(client.get(path, headers=travel.auth("outsider")), 404)
    _problem(
        client.get(f"{API}/courses/99999/problems/{route}", headers=travel.auth("teacher")), 404
    )
    _problem(client.get(path), 401)


def test_round_trip_through_the_api_into_a_fresh_installation(
    client, travel: Travel, postgres_url, tmp_path
):
    exported = client.get(
        f"{API}/courses/{travel.course.id}/problems/export.json", headers=travel.auth("teacher")
    ).get_json()["problems"]

    migrate.upgrade(postgres_url)
    settings = Settings.from_env(
        {"MIXGRADE_INSTANCE": str(tmp_path / "b"), "SECRET_KEY": "b", "DATABASE_URL": postgres_url}
    )
    fresh = create_app({"TESTING": True}, settings=settings)
    try:
        with fresh.app_context():
            session = fresh.extensions["mixgrade.sessions"]()
            sync_builtin(session)
            course = Course(code="TRAVEL-B", title="Elsewhere")
            session.add(course)
            session.commit()
            importer = instructor(session, "new@b.test", course)
            secret = tokens.create(session, importer, name="b")[1]
            course_id = course.id
        other = fresh.test_client()
        url = f"{API}/courses/{course_id}/problems/import"
        headers = {"Authorization": f"Bearer {secret}"}
        done = other.post(url, json={"files": exported}, headers=headers)
        assert done.status_code == 200, done.get_data(as_text=True)
        items = done.get_json()["items"]
        assert [(i["slug"], i["version"], i["action"]) for i in items] == [
            (SLUG, 1, "created"),
            (SLUG, 2, "new version"),
            ("simple_regression", 1, "unchanged"),
        ]
        again = other.post(url, json={"files": exported}, headers=headers).get_json()["items"]
        assert [i["action"] for i in again] == ["unchanged"] * 3
        assert [i["problem_id"] for i in again] == [i["problem_id"] for i in items]
        with fresh.app_context():
            session = fresh.extensions["mixgrade.sessions"]()
            row = session.get(Problem, items[1]["problem_id"])
            assert row.spec_text == exported[1]["spec"]
            here = problem_bank.generate(problem_bank.parse_spec(row.spec_text), 3)
            there = problem_bank.generate(problem_bank.parse_spec(exported[1]["spec"]), 3)
            assert (here.data_csv, here.output) == (there.data_csv, there.output)
            session.close()
    finally:
        fresh.extensions["mixgrade.engine"].dispose()


def test_a_broken_file_is_a_422_listing_every_error_and_nothing_is_imported(
    client, travel: Travel, db_session
):
    before = problem_count(db_session)
    body = _problem(
        _import(
            client,
            travel,
            [
                {"filename": "fine.yaml", "spec": authored_text(1, "Fine").replace(SLUG, "fine")},
                {
                    "filename": "bad.yaml",
                    "spec": authored_text().replace("version: 1", "version: x"),
                },
                {"filename": "evil.yaml", "spec": "id: x\nb: !!python/name:os.system\n"},
            ],
        ),
        422,
    )
    assert body["type"] == "urn:mixgrade:problem:import-refused"
    assert body["detail"].startswith("Nothing was imported: bad.yaml:3: version: ")
    assert [(e["file"], e["line"]) for e in body["errors"]] == [("bad.yaml", 3), ("evil.yaml", 2)]
    assert problem_count(db_session) == before


#: A surrogate or NUL never reaches the spec loader through JSON: the request layer refuses
#: it in every JSON text (tests/api/test_hostile_json.py).
IN_JSON = [case for case in HOSTILE_YAML if "\ud800" not in case[0] and "\x00" not in case[0]]


@pytest.mark.parametrize(("text", "line", "reason"), IN_JSON)
def test_hostile_yaml_in_an_import_is_a_422_with_its_line(
    client, travel: Travel, text, line, reason
):
    body = _problem(_import(client, travel, [{"filename": "h.yaml", "spec": text}]), 422)
    (error,) = body["errors"]
    assert (error["file"], error["line"]) == ("h.yaml", line) and reason in error["message"]


def test_someone_elses_problem_with_other_text_is_a_422_that_says_what_to_do(
    client, travel: Travel, db_session
):
    changed = authored_text(1, "Lizards, my way")
    other = db_session.scalar(select(User).where(User.email == "out@else.test"))
    secret = tokens.create(db_session, other, name="o")[1]
    own = db_session.scalar(select(Course).where(Course.code == "ELSE"))
    response = client.post(
        f"{API}/courses/{own.id}/problems/import",
        json={"files": [{"filename": "mine.yaml", "spec": changed}]},
        headers={"Authorization": f"Bearer {secret}"},
    )
    body = _problem(response, 422)
    assert "belongs to another author" in body["detail"] and "change the id" in body["detail"]
    mine = _import(client, travel, [{"filename": "mine.yaml", "spec": changed}])
    assert mine.status_code == 200, mine.get_data(as_text=True)
    assert mine.get_json()["items"][0] | {"problem_id": 0} == {
        "file": "mine.yaml",
        "slug": SLUG,
        "version": 4,
        "action": "new version",
        "problem_id": 0,
    }


def test_import_roles_and_limits(client, travel: Travel, app, db_session):
    ok = [{"filename": "a.yaml", "spec": authored_text()}]
    assert "instructors" in _problem(_import(client, travel, ok, "student"), 403)["detail"]
    _problem(_import(client, travel, ok, "outsider"), 404)
    # Teaches the course (an LMS launch enrolled them so) but may not write problems.
    ta = User(email="ta@a.test", name="Ta", role=Role.student)
    db_session.add_all([ta, Enrollment(user=ta, course=travel.course, role=Role.instructor)])
    db_session.commit()
    travel.secrets["ta"] = tokens.create(db_session, ta, name="ta")[1]
    body = _problem(_import(client, travel, ok, "ta"), 403)
    assert body["detail"] == (
        "ta@a.test may not write problems: that needs the instructor site role, which an "
        "admin gives."
    )
    big = "#" * (problem_bank.MAX_SPEC_BYTES + 1)
    body = _problem(_import(client, travel, [{"filename": "big.yaml", "spec": big}]), 422)
    assert "json.files.0.spec" in body["detail"]
    body = _problem(_import(client, travel, []), 422)
    assert "json.files" in body["detail"]
    many = [{"filename": f"{i}.yaml", "spec": "id: x\n"} for i in range(201)]
    _problem(_import(client, travel, many), 422)
    limit = app.config["MAX_CONTENT_LENGTH"]
    five = [{"filename": f"{i}.yaml", "spec": "#" * 60_000} for i in range(limit // 60_000 + 1)]
    assert _import(client, travel, five).status_code == 413


def test_validate_returns_every_diagnostic_without_saving(client, travel: Travel, db_session):
    before = problem_count(db_session)
    url = f"{API}/problems/validate"
    good = client.post(url, json={"spec": authored_text()}, headers=travel.auth("teacher"))
    assert good.status_code == 200 and good.get_json() == {"ok": True, "diagnostics": []}
    bad = client.post(
        url,
        json={"spec": authored_text().replace("version: 1", "version: x")},
        headers=travel.auth("teacher"),
    ).get_json()
    assert bad["ok"] is False
    first = bad["diagnostics"][0]
    assert (first["line"], first["field"], first["severity"]) == (3, "version", "error")
    assert first["message"]
    two = authored_text().replace("version: 1", "version: x").replace(f"id: {SLUG}", "id: yes")
    found = client.post(url, json={"spec": two}, headers=travel.auth("teacher")).get_json()
    assert [(d["line"], d["field"]) for d in found["diagnostics"]] == [(1, "id"), (3, "version")]
    drawn = client.post(
        url, json={"spec": misconception_equal_to_answer()}, headers=travel.auth("teacher")
    ).get_json()
    assert drawn["ok"] is False
    assert [(d["line"], d["field"], d["severity"]) for d in drawn["diagnostics"]] == [
        (37, "parts[0].misconceptions[0].expression", "error")
    ]
    for text, line, reason in HOSTILE_YAML[:5]:
        found = client.post(url, json={"spec": text}, headers=travel.auth("teacher")).get_json()
        assert found["diagnostics"][0]["line"] == line
        assert reason in found["diagnostics"][0]["message"]
    assert problem_count(db_session) == before
    assert (
        "instructors"
        in _problem(
            client.post(url, json={"spec": "id: x\n"}, headers=travel.auth("student")), 403
        )["detail"]
    )
    huge = {"spec": "#" * (problem_bank.MAX_SPEC_BYTES + 1)}
    _problem(client.post(url, json=huge, headers=travel.auth("teacher")), 422)


def test_the_routes_are_in_the_openapi_document(client):
    doc = client.get(f"{API}/openapi.json").get_json()
    paths = doc["paths"]
    export = paths["/api/v1/courses/{course_id}/problems/export"]["get"]
    assert "application/zip" in export["responses"]["200"]["content"]
    assert "post" in paths["/api/v1/courses/{course_id}/problems/import"]
    assert "get" in paths["/api/v1/courses/{course_id}/problems/export.json"]
    assert "post" in paths["/api/v1/problems/validate"]
    assert {"line", "field", "message", "severity"} <= set(
        doc["components"]["schemas"]["SpecDiagnostic"]["properties"]
    )


def _post_zip(
    client, travel: Travel, data: bytes, who: str = "teacher", mimetype="application/zip"
):
    return client.post(
        f"{API}/courses/{travel.course.id}/problems/import.zip",
        data=data,
        headers={**travel.auth(who), "Content-Type": mimetype},
    )


def test_the_exported_zip_imports_back_and_nothing_changes(client, travel: Travel, db_session):
    exported = client.get(
        f"{API}/courses/{travel.course.id}/problems/export", headers=travel.auth("teacher")
    ).data
    before = problem_count(db_session)
    response = _post_zip(client, travel, exported)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [(i["file"], i["action"]) for i in response.get_json()["items"]] == [
        (f"{SLUG}.v1.yaml", "unchanged"),
        (f"{SLUG}.v2.yaml", "unchanged"),
        ("simple_regression.v1.yaml", "unchanged"),
    ]
    assert problem_count(db_session) == before


def test_a_bad_zip_upload_is_a_4xx_that_says_why(client, travel: Travel, db_session):
    before = problem_count(db_session)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../etc/evil.yaml", authored_text())
        archive.writestr("fine.yaml", authored_text(1, "Fine").replace(SLUG, "fine_one"))
    body = _problem(_post_zip(client, travel, buffer.getvalue()), 422)
    assert body["errors"] == [
        {
            "file": "../../etc/evil.yaml",
            "line": None,
            "field": "",
            "message": "a spec file must sit at the top of the zip, its name without folders "
            "or '..'",
        }
    ]
    assert "not a zip file" in _problem(_post_zip(client, travel, b"nope"), 422)["detail"]
    _problem(_post_zip(client, travel, buffer.getvalue(), mimetype="text/plain"), 415)
    _problem(_post_zip(client, travel, buffer.getvalue(), "student"), 403)
    _problem(_post_zip(client, travel, buffer.getvalue(), "outsider"), 404)
    assert _post_zip(client, travel, b"\0" * 300_000).status_code == 413
    assert problem_count(db_session) == before
