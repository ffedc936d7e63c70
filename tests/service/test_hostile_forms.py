"""Forms with text the app cannot store: a 422 page, never a 500, on SQLite and PostgreSQL.

The instructor's spec upload with bytes that are not UTF-8, and a NUL character (``%00``)
in any form field or query parameter, which PostgreSQL refuses to store or even compare.
"""

from __future__ import annotations

import io

import pytest

from tests.conftest import csrf_token, settings_on
from tests.service.web_world import as_user, build_world

NOT_UTF8 = b"id: bad\ntitle: caf\xe9 \xed\xa0\x80 \xff\n"


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path):
    return settings_on(request.param, request, tmp_path)


@pytest.fixture
def world(db_session):
    return build_world(db_session)


@pytest.fixture
def teacher(client, world):
    return as_user(client, "teacher")


def _token(client) -> str:
    return csrf_token(client.get("/teach/problems/new").get_data(as_text=True))


def test_an_uploaded_file_that_is_not_utf8_is_a_422_page(teacher):
    response = teacher.post(
        "/teach/problems/new",
        data={"csrf_token": _token(teacher), "spec_file": (io.BytesIO(NOT_UTF8), "bad.yaml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    assert "text/html" in response.content_type


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"%E9%ED%A0%80%FF", 422),  # percent-encoded bytes that are not UTF-8
        (b"%00id%3A%20x", 422),  # a NUL character
        # Raw non-ASCII is not form encoding at all (browsers always percent-encode): the
        # form cannot be read, so its CSRF token is missing too, a 400.
        (b"\xe9\xff", 400),
    ],
)
def test_a_text_area_with_invalid_bytes_or_nul_is_refused_with_a_page(teacher, raw, status):
    body = b"csrf_token=" + _token(teacher).encode() + b"&spec_text=id%3A+x%0Atitle%3A+" + raw
    response = teacher.post(
        "/teach/problems/new", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert "text/html" in response.content_type


def test_a_nul_in_a_login_form_field_is_a_422_naming_the_field(client, world):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": "alice\x00@example.edu", "password": "x", "csrf_token": token}
    )
    assert response.status_code == 422
    assert "form.email: The text contains a NUL character (at character 5)" in (
        response.get_data(as_text=True)
    )


def test_a_nul_in_a_teachers_form_or_a_query_is_a_422(teacher, world):
    course_id = world.course.id
    page = teacher.get(f"/teach/courses/{course_id}/assignments/new").get_data(as_text=True)
    response = teacher.post(
        f"/teach/courses/{course_id}/assignments/new",
        data={"csrf_token": csrf_token(page), "title": "Week\x001"},
    )
    assert response.status_code == 422
    assert "form.title: The text contains a NUL character" in response.get_data(as_text=True)
    query = teacher.get(f"/teach/problems/{world.problem.id}?seed=1%00")
    assert query.status_code == 422
    assert "query.seed" in query.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["nan", "inf", "-inf", "1e999", "1001"])
def test_points_that_are_not_finite_or_too_large_are_refused(teacher, world, db_session, typed):
    """float() reads "nan" and "inf"; stored, they broke totals (and PostgreSQL's JSON)."""
    page = f"/teach/assignments/{world.assignment.id}"
    parts = {"intercept": typed, "slope": "4", "prediction": "4", "t_slope": "4", "decision": "4"}
    data = {f"part-{world.item.id}-{k}": v for k, v in parts.items()}
    before = (world.item.points, world.item.part_points)
    token = csrf_token(teacher.get(page).get_data(as_text=True))
    response = teacher.post(
        f"/teach/items/{world.item.id}/points", data={"csrf_token": token, **data}
    )
    assert response.status_code == 302
    db_session.expire_all()
    item = db_session.get(type(world.item), world.item.id)
    assert (item.points, item.part_points) == before
    assert "Points are numbers from 0 to 1000" in teacher.get(page).get_data(as_text=True)
    new = f"/teach/courses/{world.course.id}/assignments/new"
    token = csrf_token(teacher.get(new).get_data(as_text=True))
    form = {"title": "HW", "problem": str(world.problem.id), f"points-{world.problem.id}": typed}
    response = teacher.post(new, data={"csrf_token": token, **form})
    assert response.status_code == 422
    assert "at most 1000" in response.get_data(as_text=True)
