"""The authoring tutorial's last step, in the web app: paste its spec under "Write a
problem", preview it, and see a bad row refused with its line (422, not a 500)."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from service.models import Problem, ProblemStatus
from tests.conftest import csrf_token
from tests.problem_bank.test_authoring_tutorial import tutorial_spec
from tests.service.web_world import as_user, build_world


@pytest.fixture
def world(db_session):
    return build_world(db_session)


def _paste(client, text: str):
    page = client.get("/teach/problems/new").get_data(as_text=True)
    return client.post(
        "/teach/problems/new", data={"csrf_token": csrf_token(page), "spec_text": text}
    )


def test_the_tutorial_spec_uploads_and_previews_its_row_residual(client, world, db_session):
    as_user(client, "teacher")
    response = _paste(client, tutorial_spec())
    assert response.status_code == 302, response.get_data(as_text=True)
    problem = db_session.scalar(select(Problem).where(Problem.slug == "fish_catch"))
    assert problem.status == ProblemStatus.draft
    page = client.get(f"/teach/problems/{problem.id}")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert "What is its response residual" in text and "deviance_residual" in text


def test_a_row_numbered_from_zero_is_refused_with_its_line(client, world):
    as_user(client, "teacher")
    bad = tutorial_spec().replace(
        'answer: residual(r, "response")', 'answer: residual(0, "response")'
    )
    response = _paste(client, bad)
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    line = next(i for i, row in enumerate(bad.splitlines(), 1) if "residual(0," in row)
    assert f"Line {line}" in text and "rows are numbered from 1" in text
