"""Our LTI signing key at rest: encrypted under SECRET_KEY, never a clear PEM in a row."""

from __future__ import annotations

import json

import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import text

from service.cli import main
from service.lti import keys
from service.models import LtiKey


def _stored_pems(db_session) -> list[str]:
    db_session.expire_all()
    return list(db_session.scalars(text("SELECT private_pem FROM lti_keys")))


def _verify(token: str, public_jwk: dict) -> dict:
    public = RSAAlgorithm.from_jwk(json.dumps(public_jwk))
    return jwt.decode(token, public, algorithms=["RS256"], audience="https://lms.test")


def test_the_key_is_stored_encrypted_and_still_signs(app: Flask, client, db_session):
    [published] = client.get("/lti/jwks").get_json()["keys"]
    [stored] = _stored_pems(db_session)
    assert "PRIVATE KEY" not in stored and "-----" not in stored
    assert stored.startswith(keys.SEALED_PREFIX)
    with app.app_context():
        token = keys.sign(db_session, {"aud": "https://lms.test", "sub": "x"})
    assert jwt.get_unverified_header(token)["kid"] == published["kid"]
    assert _verify(token, published)["sub"] == "x"


def test_a_clear_pem_from_before_signs_and_is_encrypted_on_first_use(app: Flask, db_session):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = json.loads(RSAAlgorithm.to_jwk(private.public_key())) | {"kid": "old", "alg": "RS256"}
    db_session.add(LtiKey(kid="old", private_pem=pem, public_jwk=public, active=True))
    db_session.commit()
    with app.app_context():
        token = keys.sign(db_session, {"aud": "https://lms.test", "sub": "y"})
        db_session.commit()
        [stored] = _stored_pems(db_session)
        assert stored.startswith(keys.SEALED_PREFIX) and "PRIVATE KEY" not in stored
        assert keys.private_pem(db_session.get(LtiKey, 1)) == pem
    assert _verify(token, public)["sub"] == "y"


def test_a_wrong_secret_key_is_one_clear_message_naming_it(app: Flask, client, db_session):
    @app.get("/signs")
    def signs():  # type: ignore[no-untyped-def]
        return keys.sign(db_session, {"aud": "https://lms.test"})

    with app.app_context():
        keys.signing_key(db_session)  # made and stored under SECRET_KEY "test-secret"
    app.config["SECRET_KEY"] = "another-secret"
    with app.app_context(), pytest.raises(keys.SigningKeyUnreadable) as refused:
        keys.sign(db_session, {"aud": "https://lms.test"})
    assert refused.value.code == 503 and "SECRET_KEY" in refused.value.description
    page = client.get("/signs")
    assert page.status_code == 503 and "SECRET_KEY" in page.get_data(as_text=True)


def test_commands_refuse_to_start_with_a_wrong_secret_key(app: Flask, client, settings):
    client.get("/lti/jwks")
    env = {"MIXGRADE_INSTANCE": str(settings.instance_dir), "DATABASE_URL": settings.database_url}
    right = CliRunner().invoke(main, ["lti", "platforms"], env={**env, "SECRET_KEY": "test-secret"})
    assert right.exit_code == 0, right.output
    wrong = CliRunner().invoke(main, ["lti", "platforms"], env={**env, "SECRET_KEY": "other"})
    assert wrong.exit_code == 1
    assert "SECRET_KEY" in wrong.output and "Traceback" not in wrong.output
    assert wrong.exception is None or isinstance(wrong.exception, SystemExit)
