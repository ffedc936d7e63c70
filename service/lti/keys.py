"""Our RSA signing keys: made on first need, kept in the database, published as a JWKS.

The private key never leaves the database (it is not in the repository or in a file the
web server serves). Platforms fetch the public half from /lti/jwks by ``kid``.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.models import LtiKey

ALGORITHM = "RS256"


def generate(session: Session) -> LtiKey:
    """Make and store a fresh 2048-bit RSA key pair; the newest active key signs."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    kid = uuid.uuid4().hex
    public = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    public.update(kid=kid, alg=ALGORITHM, use="sig")
    row = LtiKey(kid=kid, private_pem=pem, public_jwk=public, active=True)
    session.add(row)
    session.commit()
    return row


def signing_key(session: Session) -> LtiKey:
    """The key to sign with, generated the first time anything needs one."""
    row = session.scalar(
        select(LtiKey).where(LtiKey.active.is_(True)).order_by(LtiKey.id.desc()).limit(1)
    )
    if row is not None:
        return row
    try:
        return generate(session)
    except IntegrityError:  # pragma: no cover - two first requests racing; uuid4 kids differ
        session.rollback()
        return signing_key(session)


def jwks(session: Session) -> dict[str, Any]:
    """The public keys, active first: what /lti/jwks serves."""
    signing_key(session)
    rows = session.scalars(select(LtiKey).order_by(LtiKey.active.desc(), LtiKey.id.desc()))
    return {"keys": [row.public_jwk for row in rows]}


def sign(session: Session, claims: dict[str, Any], *, lifetime: int = 300) -> str:
    """A JWT over ``claims`` signed with our key, with iat/exp/jti filled in if absent."""
    key = signing_key(session)
    now = int(time.time())
    body = {"iat": now, "exp": now + lifetime, "jti": secrets.token_urlsafe(16), **claims}
    return jwt.encode(body, key.private_pem, algorithm=ALGORITHM, headers={"kid": key.kid})
