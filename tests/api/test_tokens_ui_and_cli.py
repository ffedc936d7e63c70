"""Making and revoking tokens: the settings page (instructors) and `mixgrade tokens`."""

from __future__ import annotations

import re

from click.testing import CliRunner
from sqlalchemy import select

from service.cli import main
from service.models import ApiToken, Course, Enrollment, Role, User
from service.passwords import hash_password
from tests.conftest import csrf_token, login

PASSWORD = "correct horse battery"


def _people(session) -> Course:
    course = Course(code="TOK-1", title="Tokens")
    teacher = User(email="t@tok.test", name="T", role=Role.instructor,
                   password_hash=hash_password(PASSWORD))  # fmt: skip
    student = User(email="s@tok.test", name="S", role=Role.student,
                   password_hash=hash_password(PASSWORD))  # fmt: skip
    session.add_all([course, teacher, student,
                     Enrollment(user=teacher, course=course, role=Role.instructor),
                     Enrollment(user=student, course=course, role=Role.student)])  # fmt: skip
    session.commit()
    return course


def test_an_instructor_makes_a_scoped_token_on_the_page_uses_it_and_revokes_it(client, db_session):
    course = _people(db_session)
    assert login(client, "t@tok.test", PASSWORD).status_code == 302
    page = client.get("/settings/api-tokens/")
    assert page.status_code == 200
    made = client.post(
        "/settings/api-tokens/",
        data={"name": "sync", "course": str(course.id),
              "csrf_token": csrf_token(page.get_data(as_text=True))},
    )  # fmt: skip
    html = made.get_data(as_text=True)
    secret = re.search(r'<code id="new-token">([^<]+)</code>', html).group(1)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).get_json()
    assert me["user"]["email"] == "t@tok.test" and me["course_ids"] == [course.id]
    token = db_session.scalar(select(ApiToken).where(ApiToken.name == "sync"))
    client.post(f"/settings/api-tokens/{token.id}/revoke",
                data={"csrf_token": csrf_token(html)})  # fmt: skip
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == (
        401
    )


def test_students_cannot_open_the_token_page(client, db_session):
    _people(db_session)
    login(client, "s@tok.test", PASSWORD)
    assert client.get("/settings/api-tokens/").status_code == 403


def test_tokens_cli_create_list_revoke(client, db_session, settings):
    _people(db_session)
    env = {"MIXGRADE_INSTANCE": str(settings.instance_dir), "SECRET_KEY": "test-secret",
           "DATABASE_URL": settings.database_url}  # fmt: skip
    runner = CliRunner()
    made = runner.invoke(main, ["tokens", "create", "--user", "s@tok.test", "--course", "TOK-1"],
                         env=env)  # fmt: skip
    assert made.exit_code == 0, made.output
    secret = made.output.strip().splitlines()[-1]
    assert secret.startswith("mgt_")
    assert (
        client.get("/api/v1/courses", headers={"Authorization": f"Bearer {secret}"}).get_json()[
            "items"
        ][0]["code"]
        == "TOK-1"
    )
    listed = runner.invoke(main, ["tokens", "list"], env=env)
    assert "s@tok.test\tTOK-1\tlive" in listed.output
    token_id = listed.output.split("\t")[0]
    assert runner.invoke(main, ["tokens", "revoke", token_id], env=env).exit_code == 0
    assert "revoked" in runner.invoke(main, ["tokens", "list"], env=env).output
    unknown = runner.invoke(main, ["tokens", "create", "--user", "nobody@x"], env=env)
    assert unknown.exit_code == 1 and "no user with email" in unknown.output
    outside = runner.invoke(main, ["tokens", "create", "--user", "s@tok.test", "--course", "NOPE"],
                            env=env)  # fmt: skip
    assert "no course with code 'NOPE'" in outside.output
