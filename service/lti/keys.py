"""Our RSA signing keys: made on first need, kept in the database, published as a JWKS.

The private key never leaves the database (it is not in the repository or in a file the
web server serves), and it is stored encrypted (Fernet, with a key derived from
SECRET_KEY by HKDF-SHA256), so a copy of the database alone cannot sign launches or grade
requests in our name. Rows written before encryption hold a clear PEM; they still sign
and are encrypted the first time they are used. Platforms fetch the public half from
/lti/jwks by ``kid``.

Rotation (:func:`rotate`, ``mixgrade lti rotate-key``) makes a new key that signs from
then on. The old one never signs again (its private half is erased) but stays in
/lti/jwks for a grace period: platforms cache our JWKS, and a token the old key signed
just before the rotation (a Deep Linking response, a service-token assertion) must
still verify.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, has_app_context
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import ServiceUnavailable

from service.config import Settings
from service.models import LtiKey, utcnow

ALGORITHM = "RS256"
#: Marks an encrypted private key in ``LtiKey.private_pem``; a clear PEM starts "-----".
SEALED_PREFIX = "fernet-v1:"
#: HKDF context: a key derived for this use is useless for any other use of SECRET_KEY.
KDF_INFO = b"mixgrade lti key v1"


class SigningKeyUnreadable(ServiceUnavailable):
    """The stored key does not decrypt with this SECRET_KEY: a setup error, said plainly."""

    def __init__(self, kid: str) -> None:
        super().__init__(
            f"The LTI signing key {kid} cannot be decrypted: SECRET_KEY is not the one it "
            "was stored with. Set the same SECRET_KEY for the web server and every worker."
        )


def generate(session: Session) -> LtiKey:
    """Make and store a fresh 2048-bit RSA key pair; the newest active key signs."""
    row = _new_key()
    session.add(row)
    session.commit()
    return row


def _new_key() -> LtiKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    kid = uuid.uuid4().hex
    public = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    public.update(kid=kid, alg=ALGORITHM, use="sig")
    return LtiKey(kid=kid, private_pem=_seal(pem), public_jwk=public, active=True)


@dataclass(frozen=True)
class Rotation:
    """What a rotation did: the key that signs now, and the keys it retired."""

    new: LtiKey
    retired: list[LtiKey]
    published_until: datetime


def rotate(session: Session, grace: timedelta) -> Rotation:
    """A new signing key; the keys that signed until now stay published for ``grace``.

    The retired keys' private halves are erased, so not even a later copy of the database
    can sign with them. A zero grace drops the old keys from /lti/jwks at once (for a
    leaked key): tokens they signed stop verifying as soon as platforms refetch our JWKS.
    Keys retired by an earlier rotation keep their own end of publication.
    """
    if grace < timedelta(0):
        raise ValueError("the grace period cannot be negative")
    now = utcnow()
    retired = list(session.scalars(select(LtiKey).where(LtiKey.active.is_(True)).with_for_update()))
    for row in retired:
        row.active = False
        row.retired_at = now
        row.published_until = now + grace
        row.private_pem = ""  # only the public half is still needed: it can never sign again
    new = _new_key()
    session.add(new)
    session.commit()
    return Rotation(new=new, retired=retired, published_until=now + grace)


def published(session: Session) -> list[LtiKey]:
    """The keys in /lti/jwks: the signing key first, then retired keys still in grace."""
    rows = session.scalars(
        select(LtiKey)
        .where(or_(LtiKey.active.is_(True), LtiKey.published_until > utcnow()))
        .order_by(LtiKey.active.desc(), LtiKey.id.desc())
    )
    return list(rows)


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
    """The published public keys, the signing key first: what /lti/jwks serves."""
    signing_key(session)
    return {"keys": [row.public_jwk for row in published(session)]}


def sign(session: Session, claims: dict[str, Any], *, lifetime: int = 300) -> str:
    """A JWT over ``claims`` signed with our key, with iat/exp/jti filled in if absent."""
    key = signing_key(session)
    now = int(time.time())
    body = {"iat": now, "exp": now + lifetime, "jti": secrets.token_urlsafe(16), **claims}
    return jwt.encode(body, private_pem(key), algorithm=ALGORITHM, headers={"kid": key.kid})


def private_pem(row: LtiKey) -> str:
    """The row's private key as clear PEM, decrypted with SECRET_KEY.

    A row from before encryption holds the clear PEM: it is returned and the row is
    encrypted in place, saved when the caller's transaction commits.
    """
    if not row.private_pem.startswith(SEALED_PREFIX):
        clear = row.private_pem
        row.private_pem = _seal(clear)
        return clear
    return _open(row)


def check_readable(session: Session, secret_key: str) -> None:
    """Raise SigningKeyUnreadable unless every stored key decrypts with ``secret_key``.

    Commands that start a server or a worker call it, so a wrong SECRET_KEY stops them
    with one line instead of failing the first LMS request.
    """
    for row in session.scalars(select(LtiKey)):
        if row.private_pem.startswith(SEALED_PREFIX):
            _open(row, secret_key)


def _open(row: LtiKey, secret_key: str | None = None) -> str:
    token = row.private_pem[len(SEALED_PREFIX) :].encode("ascii")
    try:
        return _fernet(secret_key).decrypt(token).decode("ascii")
    except InvalidToken:
        raise SigningKeyUnreadable(row.kid) from None


def _seal(pem: str) -> str:
    return SEALED_PREFIX + _fernet().encrypt(pem.encode("ascii")).decode("ascii")


def _fernet(secret: str | bytes | None = None) -> Fernet:
    """Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from SECRET_KEY by HKDF.

    SECRET_KEY is the app's inside a request, else the environment's (workers, CLI).
    """
    if secret is None and has_app_context():
        secret = current_app.config["SECRET_KEY"]
    if secret is None:
        secret = Settings.from_env().secret_key
    material = secret if isinstance(secret, bytes) else str(secret).encode("utf-8")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KDF_INFO).derive(material)
    return Fernet(base64.urlsafe_b64encode(derived))
