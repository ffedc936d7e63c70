"""The assignment page's edit forms: settings, remove (archive), move, order, add; who may
use them, CSRF, errors beside fields, and a stale form answered with 409."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from service.models import AssignmentProblem, ScorePolicy
from service.services.problems import sync_builtin
from tests.conftest import csrf_token
from tests.service.test_assignment_editing import submitted
from tests.service.web_world import as_user, build_world


@pytest.fixture
def world(db_session):
    return build_world(db_session)


def _page(client, world) -> str:
    response = client.get(f"/teach/assignments/{world.assignment.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _form(html: str) -> dict[str, str]:
    """The settings form's fields as the page fills them."""
    form = html[html.index('id="settings-form"') :]
    form = form[: form.index("</form>")]
    values = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', form))
    values.pop("practice_allowed", None)
    if re.search(r'name="practice_allowed"[^>]*checked', form):
        values["practice_allowed"] = "on"
    values["score_policy"] = re.search(r'<option value="(\w+)" selected', form).group(1)
    return values


def test_instructor_edits_settings_and_errors_show_beside_the_field(client, world, db_session):
    as_user(client, "teacher")
    html = _page(client, world)
    assert "Edit settings" in html and 'name="version"' in html
    form = _form(html)
    saved = client.post(
        f"/teach/assignments/{world.assignment.id}/edit",
        data={**form, "title": "Week 1", "attempts_allowed": "5", "score_policy": "average"},
    )
    assert saved.status_code == 302
    db_session.expire_all()
    assert world.assignment.title == "Week 1" and world.assignment.attempts_allowed == 5
    assert world.assignment.score_policy == ScorePolicy.average
    page = client.get(f"/teach/assignments/{world.assignment.id}").get_data(as_text=True)
    assert "Students are told" in page

    form = _form(page)
    bad = client.post(
        f"/teach/assignments/{world.assignment.id}/edit",
        data={**form, "attempts_allowed": "0", "late_until": "2020-01-01T00:00"},
    )
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert 'id="attempts_allowed-error"' in text and "from 1 to 50" in text
    assert 'id="late_until-error"' in text and 'aria-invalid="true"' in text
    # A stale form (someone saved since it was drawn) is a 409, not a silent overwrite.
    stale = client.post(
        f"/teach/assignments/{world.assignment.id}/edit",
        data={**form, "version": "0000", "title": "Overwritten"},
    )
    assert stale.status_code == 409 and "reload" in stale.get_data(as_text=True)
    db_session.expire_all()
    assert world.assignment.title == "Week 1"


def test_edit_forms_need_csrf_and_the_courses_instructor(client, world):
    as_user(client, "teacher")
    url = f"/teach/assignments/{world.assignment.id}/edit"
    assert client.post(url, data={"title": "x"}).status_code == 400
    client.get("/logout")
    as_user(client, "other_teacher")
    token = csrf_token(client.get("/teach/problems/new").get_data(as_text=True))
    for path in (
        url,
        f"/teach/items/{world.item.id}/remove",
        f"/teach/items/{world.item.id}/move",
        f"/teach/assignments/{world.assignment.id}/order",
        f"/teach/assignments/{world.assignment.id}/problems",
    ):
        assert client.post(path, data={"csrf_token": token}).status_code == 404, path
    client.get("/logout")
    as_user(client, "alice")
    token = csrf_token(client.get(f"/items/{world.item.id}").get_data(as_text=True))
    assert client.post(url, data={"csrf_token": token}).status_code == 403


def test_add_move_order_and_remove_from_the_page(client, world, db_session):
    problems = {p.slug: p for p in sync_builtin(db_session)}
    as_user(client, "teacher")
    html = _page(client, world)
    token = csrf_token(html)
    added = client.post(
        f"/teach/assignments/{world.assignment.id}/problems",
        data={"csrf_token": token, "problem_id": problems["additive_dose"].id, "points": "4"},
    )
    assert added.status_code == 302
    db_session.expire_all()
    first, second = world.assignment.assignment_problems
    assert second.points == 4 and second.position == 2

    bad = client.post(
        f"/teach/assignments/{world.assignment.id}/problems",
        data={"csrf_token": token, "problem_id": "abc", "points": "nan"},
    )
    assert bad.status_code == 422

    moved = client.post(
        f"/teach/items/{second.id}/move", data={"csrf_token": token, "direction": "up"}
    )
    assert moved.status_code == 302
    db_session.expire_all()
    assert [ap.id for ap in world.assignment.assignment_problems] == [second.id, first.id]
    assert (
        client.post(
            f"/teach/items/{second.id}/move", data={"csrf_token": token, "direction": "sideways"}
        ).status_code
        == 400
    )
    ordered = client.post(
        f"/teach/assignments/{world.assignment.id}/order",
        data={"csrf_token": token, f"position-{first.id}": "1", f"position-{second.id}": "2"},
    )
    assert ordered.status_code == 302
    db_session.expire_all()
    assert [ap.id for ap in world.assignment.assignment_problems] == [first.id, second.id]
    for junk in ("nan", "inf", "first"):
        hostile = client.post(
            f"/teach/assignments/{world.assignment.id}/order",
            data={"csrf_token": token, f"position-{first.id}": junk, f"position-{second.id}": "2"},
        )
        assert hostile.status_code == 400 and "Positions are numbers" in hostile.get_data(
            as_text=True
        )
    partial = client.post(
        f"/teach/assignments/{world.assignment.id}/order",
        data={"csrf_token": token, f"position-{first.id}": "1"},
    )
    assert partial.status_code == 409 and "reload" in partial.get_data(as_text=True)

    # Remove: the page warns that a problem with submissions is archived, not deleted.
    submitted(db_session, world)
    html = _page(client, world)
    assert "it will be <strong>archived</strong>" in html
    assert "No one has submitted to this problem" in html
    removed = client.post(f"/teach/items/{first.id}/remove", data={"csrf_token": token})
    assert removed.status_code == 302
    page = client.get(removed.headers["Location"]).get_data(as_text=True)
    assert "Archived Simple linear regression" in page
    assert "Removed problems" in page
    db_session.expire_all()
    assert db_session.get(AssignmentProblem, first.id).archived_at is not None
    second_id = second.id
    deleted = client.post(f"/teach/items/{second_id}/remove", data={"csrf_token": token})
    assert deleted.status_code == 302
    db_session.expire_all()
    gone = select(AssignmentProblem).where(AssignmentProblem.id == second_id)
    assert db_session.scalars(gone).all() == []
    again = client.post(f"/teach/items/{first.id}/remove", data={"csrf_token": token})
    assert again.status_code == 409
