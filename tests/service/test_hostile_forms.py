"""The instructor's spec upload with bytes that are not UTF-8 text: a 422 page, never a 500."""

from __future__ import annotations

import io

import pytest

from tests.conftest import csrf_token
from tests.service.web_world import as_user, build_world

NOT_UTF8 = b"id: bad\ntitle: caf\xe9 \xed\xa0\x80 \xff\n"


@pytest.fixture
def teacher(client, db_session):
    build_world(db_session)
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
