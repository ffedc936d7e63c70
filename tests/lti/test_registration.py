"""Registering platforms: the admin page and `mixgrade lti register`."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from service.cli import main
from service.models import LtiPlatform, Role, User
from service.passwords import hash_password
from tests.conftest import csrf_token, login

PASSWORD = "correct horse battery"


def test_admin_registers_a_platform_and_sees_the_urls_to_give_the_lms(client, db_session):
    db_session.add(User(email="root@x.test", name="Root", role=Role.admin,
                        password_hash=hash_password(PASSWORD)))  # fmt: skip
    db_session.commit()
    login(client, "root@x.test", PASSWORD)
    page = client.get("/lti/platforms")
    html = page.get_data(as_text=True)
    assert "/lti/login" in html and "/lti/launch" in html and "/lti/jwks" in html
    form = {
        "csrf_token": csrf_token(html),
        "name": "Canvas test",
        "issuer": "https://canvas.test.instructure.com",
        "client_id": "10000000000001",
        "auth_login_url": "https://sso.test.canvaslms.com/api/lti/authorize_redirect",
        "auth_token_url": "https://sso.test.canvaslms.com/login/oauth2/token",
        "jwks_url": "https://sso.test.canvaslms.com/api/lti/security/jwks",
        "deployment_ids": "1:abc, 2:def",
    }
    assert client.post("/lti/platforms", data=form).status_code == 302
    platform = db_session.scalar(select(LtiPlatform))
    assert [d.deployment_id for d in platform.deployments] == ["1:abc", "2:def"]
    bad = client.post("/lti/platforms", data={**form, "jwks_url": "not a url"})
    assert bad.status_code == 422 and "JWKS URL must be an http(s) URL" in bad.get_data(
        as_text=True
    )


def test_non_admins_cannot_register(client, db_session):
    db_session.add(User(email="t@x.test", name="T", role=Role.instructor,
                        password_hash=hash_password(PASSWORD)))  # fmt: skip
    db_session.commit()
    login(client, "t@x.test", PASSWORD)
    assert client.get("/lti/platforms").status_code == 403


def test_cli_register_and_list(app, settings):
    env = {"MIXGRADE_INSTANCE": str(settings.instance_dir), "SECRET_KEY": "test-secret",
           "DATABASE_URL": settings.database_url}  # fmt: skip
    args = ["lti", "register", "--issuer", "https://moodle.test", "--client-id", "abc",
            "--login-url", "https://moodle.test/mod/lti/auth.php",
            "--token-url", "https://moodle.test/mod/lti/token.php",
            "--jwks-url", "https://moodle.test/mod/lti/certs.php", "--deployment", "3",
            "--base-url", "https://mixgrade.example.edu"]  # fmt: skip
    made = CliRunner().invoke(main, args, env=env)
    assert made.exit_code == 0, made.output
    assert "https://mixgrade.example.edu/lti/login" in made.output
    listed = CliRunner().invoke(main, ["lti", "platforms"], env=env)
    assert "https://moodle.test\tabc\t3" in listed.output
    broken = CliRunner().invoke(main, [*args[:-2], "--jwks-url", "ftp://x"], env=env)
    assert broken.exit_code == 1
