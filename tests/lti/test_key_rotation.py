"""`mixgrade lti rotate-key`: a new key signs; the old one stays in /lti/jwks for a grace."""

from __future__ import annotations

import re
from datetime import timedelta

import jwt
import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from service.cli import main
from service.lti import advantage, keys
from service.models import LtiKey, LtiPlatform, Role, User, utcnow
from service.passwords import hash_password
from tests.conftest import login
from tests.lti.conftest import Tool
from tests.lti.platform import SCORE_SCOPE, Platform

AUD = "https://lms.test"


def _kids(tool: Tool) -> list[str]:
    """The kids a platform sees when it (re)fetches our JWKS over HTTP."""
    client = jwt.PyJWKClient(f"{tool.base_url}/lti/jwks", cache_jwk_set=False)
    return [k.key_id for k in client.get_jwk_set().keys]


def _verify_as_platform(tool: Tool, token: str) -> dict:
    """What an LMS does: find the token's kid in our JWKS, freshly fetched, and verify."""
    client = jwt.PyJWKClient(f"{tool.base_url}/lti/jwks", cache_jwk_set=False)
    key = client.get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=AUD)


def _end_grace(db_session, kid: str) -> None:
    """Move a retired key's end of publication into the past, as if the grace had passed."""
    row = db_session.scalar(select(LtiKey).where(LtiKey.kid == kid))
    row.published_until = utcnow() - timedelta(seconds=1)
    db_session.commit()


def test_rotation_publishes_both_signs_with_the_new_and_drops_the_old_after_grace(
    app: Flask, tool: Tool, db_session
):
    with app.app_context():
        before = keys.sign(db_session, {"aud": AUD, "sub": "before"})
        old_kid = jwt.get_unverified_header(before)["kid"]
        rotation = keys.rotate(db_session, timedelta(days=7))
        after = keys.sign(db_session, {"aud": AUD, "sub": "after"})
    new_kid = rotation.new.kid
    assert [r.kid for r in rotation.retired] == [old_kid] and new_kid != old_kid
    assert jwt.get_unverified_header(after)["kid"] == new_kid
    assert _kids(tool) == [new_kid, old_kid]  # the signing key first
    # A token signed just before the rotation still verifies during the grace.
    assert _verify_as_platform(tool, before)["sub"] == "before"
    assert _verify_as_platform(tool, after)["sub"] == "after"

    _end_grace(db_session, old_kid)
    assert _kids(tool) == [new_kid]
    with pytest.raises(jwt.PyJWKClientError):
        _verify_as_platform(tool, before)
    with app.app_context():  # the retired key never signs again
        assert jwt.get_unverified_header(keys.sign(db_session, {"aud": AUD}))["kid"] == new_kid


def test_a_second_rotation_keeps_the_first_retired_keys_own_end(app: Flask, db_session):
    with app.app_context():
        first = keys.signing_key(db_session).kid
        one = keys.rotate(db_session, timedelta(days=7))
        two = keys.rotate(db_session, timedelta(hours=1))
    rows = {r.kid: r for r in db_session.scalars(select(LtiKey))}
    assert rows[first].private_pem == rows[one.new.kid].private_pem == ""  # erased
    assert rows[two.new.kid].private_pem.startswith(keys.SEALED_PREFIX)
    assert rows[first].published_until == one.published_until
    assert rows[one.new.kid].published_until == two.published_until
    assert [k.kid for k in keys.published(db_session)] == [two.new.kid, one.new.kid, first]
    assert [r.kid for r in db_session.scalars(select(LtiKey).where(LtiKey.active))] == [two.new.kid]


def test_zero_grace_drops_the_old_key_at_once(app: Flask, db_session):
    with app.app_context():
        old = keys.signing_key(db_session).kid
        rotation = keys.rotate(db_session, timedelta(0))
    assert [k["kid"] for k in keys.jwks(db_session)["keys"]] == [rotation.new.kid]
    assert old != rotation.new.kid
    with pytest.raises(ValueError):
        keys.rotate(db_session, timedelta(seconds=-1))


def test_the_platform_takes_service_tokens_signed_with_the_new_key(
    app: Flask, tool: Tool, platform: Platform, db_session
):
    """The LMS fetches our JWKS to check the client assertion: it must find the new kid."""
    row = db_session.scalar(select(LtiPlatform))
    with app.app_context():
        assert advantage.access_token(db_session, row, [SCORE_SCOPE])
        keys.rotate(db_session, timedelta(days=7))
        assert advantage.access_token(db_session, row, [SCORE_SCOPE])
    assert platform.token_requests == [{"scopes": [SCORE_SCOPE]}] * 2


def test_cli_rotate_key_prints_the_new_kid_and_when_the_old_leaves(app, settings, db_session):
    env = {"MIXGRADE_INSTANCE": str(settings.instance_dir), "SECRET_KEY": "test-secret",
           "DATABASE_URL": settings.database_url}  # fmt: skip
    with app.app_context():
        old = keys.signing_key(db_session).kid
    done = CliRunner().invoke(main, ["lti", "rotate-key", "--grace", "36h"], env=env)
    assert done.exit_code == 0, done.output
    db_session.expire_all()
    new = keys.signing_key(db_session)
    retired = db_session.scalar(select(LtiKey).where(LtiKey.kid == old))
    assert f"new signing key: {new.kid}" in done.output
    until = retired.published_until.strftime("%Y-%m-%d %H:%M UTC")
    assert f"old key {old}: no longer signs; stays in /lti/jwks until {until}" in done.output
    assert retired.published_until - retired.retired_at == timedelta(hours=36)
    assert new.private_pem.startswith(keys.SEALED_PREFIX)  # sealed at rest, as before
    with app.app_context():
        assert keys.private_pem(new).startswith("-----BEGIN PRIVATE KEY-----")
    for bad in ("soon", "-1d", "400d", "99999999999999d"):
        refused = CliRunner().invoke(main, ["lti", "rotate-key", "--grace", bad], env=env)
        assert refused.exit_code == 2 and "--grace" in refused.output, refused.output
        assert "Traceback" not in refused.output
    db_session.expire_all()
    assert keys.signing_key(db_session).kid == new.kid  # refused rotations changed nothing


def test_the_admin_page_shows_the_signing_key_and_the_retiring_one(app: Flask, client, db_session):
    db_session.add(User(email="root@x.test", name="Root", role=Role.admin,
                        password_hash=hash_password("correct horse battery")))  # fmt: skip
    db_session.commit()
    login(client, "root@x.test", "correct horse battery")
    with app.app_context():
        old = keys.signing_key(db_session).kid
        rotation = keys.rotate(db_session, timedelta(days=7))
    html = client.get("/lti/platforms").get_data(as_text=True)
    until = rotation.published_until.strftime("%Y-%m-%d %H:%M")
    row = re.search(rf"<code>{old}</code>.*?</tr>", html, re.S)
    assert row and f"leaves the key set {until} UTC" in row.group(0)
    row = re.search(rf"<code>{rotation.new.kid}</code>.*?</tr>", html, re.S)
    assert row and "signs now" in row.group(0)
    _end_grace(db_session, old)
    assert old not in client.get("/lti/platforms").get_data(as_text=True)
