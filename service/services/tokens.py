"""API bearer tokens: issue, look up, scope and revoke.

A token is 32 random bytes (URL-safe text with a ``mgt_`` prefix). Only its SHA-256 is
stored: the secret has far too much entropy to be brute-forced from the hash, so a slow
password hash would add nothing but latency to every API call.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import UTC, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import ApiToken, Course, Enrollment, User, utcnow
from service.services import access

PREFIX = "mgt_"
USE_STAMP_EVERY = timedelta(minutes=1)


class TokenRefused(ValueError):
    """A token cannot be made as asked (unknown course, a student scoping to a course…)."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def may_issue(user: User) -> bool:
    """Only instructors and admins (the site role) create tokens."""
    return access.is_author(user)


def create(
    session: Session,
    user: User,
    *,
    name: str = "",
    courses: Iterable[Course] = (),
    created_by: User | None = None,
) -> tuple[ApiToken, str]:
    """Store a new token for ``user`` and return (row, secret). The secret is shown once."""
    scoped = list(courses)
    if not access.is_admin(user):
        member_of = set(
            session.scalars(select(Enrollment.course_id).where(Enrollment.user_id == user.id))
        )
        outside = [c.code for c in scoped if c.id not in member_of]
        if outside:
            raise TokenRefused(f"{user.email} is not enrolled in {', '.join(outside)}")
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user=user,
        name=name.strip()[:255],
        token_hash=digest(secret),
        prefix=secret[:12],
        created_by_id=created_by.id if created_by else user.id,
        courses=scoped,
    )
    session.add(row)
    session.commit()
    return row, secret


def authenticate(session: Session, secret: str) -> ApiToken | None:
    """The live token with this secret, or None (unknown or revoked)."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    last = row.last_used_at
    if last is None or now - (last if last.tzinfo else last.replace(tzinfo=UTC)) > USE_STAMP_EVERY:
        # Stamped at most once a minute: not a database write on every API call.
        row.last_used_at = now
        session.commit()
    return row


def course_ids(session: Session, token: ApiToken) -> set[int] | None:
    """Course ids the token may reach, or None for "every course" (an unscoped admin)."""
    scope = {c.id for c in token.courses}
    if access.is_admin(token.user):
        return scope or None
    member_of = set(
        session.scalars(select(Enrollment.course_id).where(Enrollment.user_id == token.user_id))
    )
    return (scope & member_of) if scope else member_of


def revoke(session: Session, token_id: int) -> ApiToken:
    """Stamp the token revoked (idempotent); LookupError if there is no such token."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise LookupError(f"no API token with id {token_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.commit()
    return row


def listed_for(session: Session, viewer: User) -> list[ApiToken]:
    """Tokens a person may see: their own, and everyone's for an admin."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if not access.is_admin(viewer):
        query = query.where((ApiToken.user_id == viewer.id) | (ApiToken.created_by_id == viewer.id))
    return list(session.scalars(query))
