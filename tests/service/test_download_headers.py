"""What a download says it is: one exact Content-Type, with its charset named once."""

from __future__ import annotations

import pytest

from service.services import variants
from tests.service.web_world import as_user, build_world


@pytest.fixture
def world(db_session):
    return build_world(db_session)


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("data.csv", "text/csv; charset=utf-8"),
        ("fit.R", "text/plain; charset=utf-8"),
        ("fit.py", "text/x-python; charset=utf-8"),
    ],
)
def test_student_downloads_name_their_charset_once(
    client, db_session, settings, world, name, content_type
):
    variant = variants.ensure(db_session, settings.seed_key, world.users["alice"], world.item)
    as_user(client, "alice")
    response = client.get(f"/variants/{variant.id}/files/{name}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'


def test_the_gradebook_export_names_its_charset_once(client, world):
    as_user(client, "teacher")
    response = client.get(f"/teach/courses/{world.course.id}/gradebook.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
