"""GET /api/v1/problems filtered, and DELETE /api/v1/problems/<id>, on PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from service.models import Problem, ProblemStatus, User
from service.services import authoring
from tests.api.conftest import ApiWorld
from tests.conftest import settings_on
from tests.service.test_bank import status_of, stored

API = "/api/v1"


@pytest.fixture
def settings(request, tmp_path):
    return settings_on("postgresql", request, tmp_path)


def _draft(db_session, world: ApiWorld, slug: str, who: str = "teacher", **kw) -> Problem:
    return stored(db_session, world.users[who], slug, **kw)


def _slugs(client, world: ApiWorld, query: str) -> set[str]:
    response = client.get(f"{API}/problems?per_page=100&{query}", headers=world.auth("teacher"))
    assert response.status_code == 200, response.get_data(as_text=True)
    return {p["slug"] for p in response.get_json()["items"]}


def test_the_list_filters_by_status_topic_and_author(client, db_session, world: ApiWorld):
    mine = _draft(db_session, world, "api_mine", topic="Rare topic")
    gone = _draft(db_session, world, "api_gone", status=ProblemStatus.archived)
    assert _slugs(client, world, "status=draft") == {mine.slug}
    assert _slugs(client, world, "status=archived") == {gone.slug}
    assert gone.slug not in _slugs(client, world, "")
    assert _slugs(client, world, "topic=Rare topic") == {mine.slug}
    assert _slugs(client, world, f"author={world.users['teacher'].id}") == {mine.slug}
    builtin = _slugs(client, world, "author=builtin")
    assert "simple_regression" in builtin and mine.slug not in builtin
    # The admin's drafts stay the admin's: the filter never widens what one may see.
    _draft(db_session, world, "api_admins", who="admin")
    assert _slugs(client, world, f"author={world.users['admin'].id}") == set()


@pytest.mark.parametrize("query", ["status=deleted", "status=", "author=x", "author=0"])
def test_an_unknown_filter_value_is_a_422_naming_the_parameter(client, world, query):
    response = client.get(f"{API}/problems?{query}", headers=world.auth("teacher"))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert query.split("=")[0] in response.get_json()["detail"]


def test_the_filters_are_in_the_openapi_document(client):
    doc = client.get(f"{API}/openapi.json").get_json()
    params = {p["name"]: p for p in doc["paths"]["/api/v1/problems"]["get"]["parameters"]}
    assert params["status"]["schema"]["enum"] == ["draft", "published", "archived"]
    assert {"topic", "author", "page", "per_page"} <= set(params)
    delete = doc["paths"]["/api/v1/problems/{problem_id}"]["delete"]["responses"]
    assert {"200", "204", "403", "404"} <= set(delete)


def test_delete_an_unreferenced_draft_then_it_is_gone(client, db_session, world: ApiWorld):
    problem_id = _draft(db_session, world, "api_delete").id
    response = client.delete(f"{API}/problems/{problem_id}", headers=world.auth("teacher"))
    assert response.status_code == 204 and response.get_data() == b""
    db_session.expire_all()
    assert db_session.get(Problem, problem_id) is None
    again = client.delete(f"{API}/problems/{problem_id}", headers=world.auth("teacher"))
    assert again.status_code == 404


def test_a_referenced_draft_is_archived_with_200(client, db_session, world: ApiWorld):
    problem = _draft(db_session, world, "api_used")
    world.item.problem_id = problem.id
    db_session.commit()
    response = client.delete(f"{API}/problems/{problem.id}", headers=world.auth("teacher"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "archived"
    db_session.expire_all()
    assert db_session.get(Problem, problem.id).status == ProblemStatus.archived
    # Archiving again changes nothing and says so the same way.
    again = client.delete(f"{API}/problems/{problem.id}", headers=world.auth("teacher"))
    assert again.status_code == 200 and again.get_json()["status"] == "archived"


@pytest.mark.parametrize(("who", "status"), [("alice", 403), ("admin", 404)])
def test_students_and_other_authors_are_refused(client, db_session, world, who, status):
    """A student may not use the bank (403); another author cannot see a draft (404)."""
    problem = _draft(db_session, world, "api_guarded")
    response = client.delete(f"{API}/problems/{problem.id}", headers=world.auth(who))
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert status_of(db_session, problem.id) == ProblemStatus.draft


def test_another_author_gets_403_for_a_published_problem(client, db_session, world):
    problem = _draft(db_session, world, "api_public", status=ProblemStatus.published)
    response = client.delete(f"{API}/problems/{problem.id}", headers=world.auth("admin"))
    assert response.status_code == 403
    assert "only the author" in response.get_json()["detail"].lower()


def test_a_builtin_problem_is_refused(client, db_session, world: ApiWorld):
    response = client.delete(f"{API}/problems/{world.problem.id}", headers=world.auth("teacher"))
    assert response.status_code == 403
    assert "built-in" in response.get_json()["detail"].lower()
    db_session.expire_all()
    assert db_session.get(Problem, world.problem.id).status == ProblemStatus.published


def test_two_concurrent_deletes_of_one_draft_both_succeed(app, db_session, world: ApiWorld):
    """Two sessions load the draft, then both delete it at once: no error, it is gone."""
    problem_id = _draft(db_session, world, "api_race").id
    teacher_id = world.users["teacher"].id
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def remove() -> None:
        session = app.extensions["mixgrade.sessions"]()
        try:
            problem = session.get(Problem, problem_id)
            user = session.get(User, teacher_id)
            barrier.wait(timeout=10)  # both have loaded the row
            outcomes.append(authoring.delete_or_archive(session, user, problem))
        except Exception as error:  # the test reports it
            outcomes.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=remove) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes == [authoring.Removed.deleted, authoring.Removed.deleted]
    db_session.expire_all()
    assert db_session.get(Problem, problem_id) is None
    # The HTTP answer for whoever comes after is a clean 404.
    late = app.test_client().delete(f"{API}/problems/{problem_id}", headers=world.auth("teacher"))
    assert late.status_code == 404


def test_two_concurrent_delete_requests_are_never_a_500(app, db_session, world: ApiWorld):
    problem_id = _draft(db_session, world, "api_race_http").id
    statuses: list[int] = []

    def send() -> None:
        response = app.test_client().delete(
            f"{API}/problems/{problem_id}", headers=world.auth("teacher")
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert 204 in statuses and set(statuses) <= {204, 404}, statuses
    assert status_of(db_session, problem_id) is None
