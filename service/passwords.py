"""Password hashing with scrypt (werkzeug's default), never stored in clear.

Checking a password always costs one scrypt, whether or not the account exists or has a
password: an answer that came back faster for unknown emails would tell anyone which
emails have accounts.
"""

from __future__ import annotations

import secrets
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

from service.models import User


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


@cache
def dummy_hash() -> str:
    """A hash of a random password, made like every real one (so it costs the same to
    check), for logins whose account has no hash to check against."""
    return hash_password(secrets.token_urlsafe(16))


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        check_password_hash(dummy_hash(), password)
        return False
    return check_password_hash(stored_hash, password)


def set_password(user: User, password: str) -> None:
    """Store a new password; every session of the user ends (a password change is how
    someone locks out whoever learned the old one)."""
    user.password_hash = hash_password(password)
    user.end_sessions()
