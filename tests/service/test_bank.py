"""The problem bank page: filters by status, topic and author; deleting and archiving."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.models import AssignmentProblem, Problem, ProblemStatus, StoredVariant, User
from service.services import authoring, teaching
from service.services.problems import builtin_spec_texts
from tests.conftest import csrf_token
from tests.service.web_world import World, as_user, build_world


@pytest.fixture
def world(db_session) -> World:
    return build_world(db_session)


def spec(slug: str, topic: str | None = None) -> str:
    """The built-in simple regression as a new problem ``slug`` (version 1)."""
    text = builtin_spec_texts()["01_simple_regression.yaml"]
    text = text.replace("id: simple_regression", f"id: {slug}", 1)
    if topic is not None:
        lines = [f"topic: {topic}" if ln.startswith("topic:") else ln for ln in text.split("\n")]
        text = "\n".join(lines)
    return text


def stored(session, user: User, slug: str, status=ProblemStatus.draft, **kw) -> Problem:
    """A problem ``user`` uploaded (the authoring use case), then given ``status``."""
    problem = authoring.create(session, user, spec(slug, **kw))
    problem.status = status
    session.commit()
    return problem


def status_of(session, problem_id: int) -> ProblemStatus | None:
    """The stored status, read afresh (None once the row is deleted)."""
    session.expire_all()
    problem = session.get(Problem, problem_id)
    return problem.status if problem is not None else None


def draft(db_session, world: World, slug: str, who: str = "teacher", **kw) -> Problem:
    return stored(db_session, world.users[who], slug, **kw)


def _slugs(client, query: str = "") -> set[str]:
    response = client.get(f"/teach/problems{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    return {p.slug for p in _all(client) if f"<code>{p.slug}</code>" in body}


def _all(client) -> list[Problem]:
    return list(client.application.extensions["mixgrade.sessions"]().scalars(select(Problem)))


def _remove(client, problem_id: int):
    page = client.get(f"/teach/problems/{problem_id}").get_data(as_text=True)
    return client.post(
        f"/teach/problems/{problem_id}/delete", data={"csrf_token": csrf_token(page)}
    )


def test_the_bank_filters_by_status_topic_and_author(client, db_session, world):
    mine = draft(db_session, world, "mine_draft", topic="Odd topic")
    theirs = draft(
        db_session, world, "their_public", who="other_teacher", status=ProblemStatus.published
    )
    hidden = draft(db_session, world, "their_private", who="other_teacher")
    gone = draft(db_session, world, "mine_archived", status=ProblemStatus.archived)
    as_user(client, "teacher")

    everything = _slugs(client)
    assert {"mine_draft", "their_public", "simple_regression"} <= everything
    assert hidden.slug not in everything  # someone else's draft, as before
    assert gone.slug not in everything  # archived only when asked for
    assert _slugs(client, "?status=draft") == {mine.slug}
    assert _slugs(client, "?status=archived") == {gone.slug}
    assert theirs.slug in _slugs(client, "?status=published")
    assert mine.slug not in _slugs(client, "?status=published")
    assert _slugs(client, "?topic=Odd+topic") == {mine.slug}
    other_id = world.users["other_teacher"].id
    assert _slugs(client, f"?author={other_id}") == {theirs.slug}
    builtin = _slugs(client, "?author=builtin")
    assert "simple_regression" in builtin and mine.slug not in builtin
    # The form keeps what was chosen, so a filtered page can be bookmarked and read back.
    page = client.get(f"/teach/problems?status=draft&author={world.users['teacher'].id}")
    body = page.get_data(as_text=True)
    assert '<option value="draft" selected>' in body
    assert f'<option value="{world.users["teacher"].id}" selected>' in body


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("?status=deleted", "Unknown status"),
        ("?status=Draft", "Unknown status"),
        ("?author=someone", "Unknown author"),
        ("?author=99999999999999", "Unknown author"),
    ],
)
def test_an_unknown_filter_value_is_a_400_that_says_so(client, world, query, says):
    as_user(client, "teacher")
    response = client.get(f"/teach/problems{query}")
    assert response.status_code == 400
    assert says in response.get_data(as_text=True)


def test_an_unreferenced_draft_is_deleted(client, db_session, world):
    problem = draft(db_session, world, "to_delete")
    problem_id = problem.id
    as_user(client, "teacher")
    assert "Delete this draft" in client.get(f"/teach/problems/{problem_id}").get_data(as_text=True)
    response = _remove(client, problem_id)
    assert response.status_code == 302 and response.location.endswith("/teach/problems")
    db_session.expire_all()
    assert db_session.get(Problem, problem_id) is None
    assert client.get(f"/teach/problems/{problem_id}").status_code == 404


def test_a_referenced_draft_is_archived_and_keeps_working(client, db_session, world):
    problem = draft(db_session, world, "in_use")
    world.item.problem_id = problem.id  # an assignment refers to it
    db_session.commit()
    as_user(client, "teacher")
    assert "Archive this version" in client.get(f"/teach/problems/{problem.id}").get_data(
        as_text=True
    )
    response = _remove(client, problem.id)
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(Problem, problem.id).status == ProblemStatus.archived
    assert db_session.get(AssignmentProblem, world.item.id).problem_id == problem.id
    page = client.get(f"/teach/problems/{problem.id}").get_data(as_text=True)
    assert "Archived in_use version 1" in page
    assert client.get(f"/teach/assignments/{world.assignment.id}").status_code == 200


def test_an_archived_published_problem_is_not_offered_for_new_assignments(
    client, db_session, world
):
    problem = draft(db_session, world, "withdrawn", status=ProblemStatus.published)
    assert problem.id in {p.id for p in teaching.publishable(db_session)}
    as_user(client, "teacher")
    _remove(client, problem.id)
    db_session.expire_all()
    assert db_session.get(Problem, problem.id).status == ProblemStatus.archived
    assert problem.id not in {p.id for p in teaching.publishable(db_session)}
    page = client.get(f"/teach/courses/{world.course.id}/assignments/new")
    assert f'id="problem-{problem.id}"' not in page.get_data(as_text=True)
    # Its preview still opens for another instructor (an assignment of theirs may use it).
    client.get("/logout")
    as_user(client, "other_teacher")
    assert client.get(f"/teach/problems/{problem.id}").status_code == 200


@pytest.mark.parametrize(("who", "status"), [("alice", 403), ("other_teacher", 404)])
def test_students_and_other_instructors_cannot_delete_a_draft(
    client, db_session, world, who, status
):
    problem = draft(db_session, world, "not_yours")
    as_user(client, who)
    token = csrf_token(client.get("/").get_data(as_text=True))
    response = client.post(f"/teach/problems/{problem.id}/delete", data={"csrf_token": token})
    assert response.status_code == status
    assert status_of(db_session, problem.id) == ProblemStatus.draft


def test_another_instructor_cannot_archive_a_published_problem(client, db_session, world):
    problem = draft(db_session, world, "public_one", status=ProblemStatus.published)
    as_user(client, "other_teacher")
    assert "Archive this version" not in client.get(f"/teach/problems/{problem.id}").text
    response = _remove(client, problem.id)
    assert response.status_code == 403
    assert "only the author" in response.get_data(as_text=True).lower()


def test_a_builtin_problem_is_refused(client, db_session, world):
    as_user(client, "teacher")
    response = _remove(client, world.problem.id)
    assert response.status_code == 403
    assert "built-in" in response.get_data(as_text=True).lower()
    db_session.expire_all()
    assert db_session.get(Problem, world.problem.id).status == ProblemStatus.published


def test_the_form_needs_its_csrf_token(client, db_session, world):
    problem = draft(db_session, world, "csrf_guarded")
    as_user(client, "teacher")
    assert client.post(f"/teach/problems/{problem.id}/delete").status_code == 400
    db_session.expire_all()
    assert db_session.get(Problem, problem.id) is not None


def test_a_draft_a_stored_variant_refers_to_is_archived(db_session, world):
    """A variant (a student's dataset) refers to the version too, even without an item."""
    problem = draft(db_session, world, "varied")
    db_session.add(
        StoredVariant(user_id=world.users["alice"].id, problem_id=problem.id, seed=1, content={})
    )
    db_session.commit()
    removed = authoring.delete_or_archive(db_session, world.users["teacher"], problem)
    assert removed == authoring.Removed.archived
    assert status_of(db_session, problem.id) == ProblemStatus.archived


def test_archiving_is_per_version_so_an_older_published_one_is_offered(db_session, world):
    teacher = world.users["teacher"]
    v1 = draft(db_session, world, "two_versions", status=ProblemStatus.published)
    text = v1.spec_text.replace("version: 1", "version: 2", 1)
    v2 = authoring.new_version(db_session, teacher, v1, text)
    v2.status = ProblemStatus.published
    db_session.commit()
    offered = {p.slug: p.version for p in teaching.publishable(db_session)}
    assert offered["two_versions"] == 2
    authoring.delete_or_archive(db_session, teacher, v2)
    offered = {p.slug: p.version for p in teaching.publishable(db_session)}
    assert offered["two_versions"] == 1
