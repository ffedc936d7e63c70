"""The login rate limit: too many failed passwords for one account or address → wait.

Failures are counted in the database, so every web replica sees the same count.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.models import LoginFailure, utcnow

WINDOW = timedelta(minutes=15)
#: Failed logins allowed per window for one email address, and for one client address.
PER_ACCOUNT = 5
PER_ADDRESS = 30


def _keys(email: str, address: str | None) -> list[tuple[str, int]]:
    keys = [(f"email:{email.strip().lower()[:300]}", PER_ACCOUNT)]
    if address:
        keys.append((f"ip:{address[:300]}", PER_ADDRESS))
    return keys


def retry_after(session: Session, email: str, address: str | None) -> int:
    """Seconds to wait before another try, or 0 if a try is allowed now."""
    now = utcnow()
    wait = 0
    for key, limit in _keys(email, address):
        times = session.scalars(
            select(LoginFailure.at)
            .where(LoginFailure.key == key, LoginFailure.at > now - WINDOW)
            .order_by(LoginFailure.at.desc())
            .limit(limit)
        ).all()
        if len(times) >= limit:
            oldest = times[-1] if times[-1].tzinfo else times[-1].replace(tzinfo=now.tzinfo)
            wait = max(wait, int((oldest + WINDOW - now).total_seconds()) + 1)
    return wait


def record_failure(session: Session, email: str, address: str | None) -> None:
    for key, _limit in _keys(email, address):
        session.add(LoginFailure(key=key))
    session.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - 4 * WINDOW))
    session.commit()


def clear_account(session: Session, email: str) -> None:
    """A successful login resets that account's count (not the address's)."""
    key = _keys(email, None)[0][0]
    session.execute(delete(LoginFailure).where(LoginFailure.key == key))
    session.commit()


def failures(session: Session, key: str) -> int:
    return session.scalar(select(func.count()).where(LoginFailure.key == key)) or 0
