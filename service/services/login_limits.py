"""The login rate limit: a few password tries per account and per client address.

The same counters cap the LTI logins (OIDC states) one client address may open per
window, since anyone may GET /lti/login and each GET stores a state.

A try is *reserved* before the password is checked: one atomic upsert per request raises
each key's counter and returns it, and only a request whose counters are all within the
limit goes on to check a password. Counting first and checking later is what let 40
parallel posts check 18 passwords; with the reservation, at most the limit of passwords
are ever checked per window, whatever the concurrency, on SQLite and PostgreSQL alike.
The counters live in the database, so every web replica and process sees the same ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.models import LoginTries, utcnow

WINDOW = timedelta(minutes=15)
#: Password tries allowed per window for one email address, and for one client address.
PER_ACCOUNT = 5
PER_ADDRESS = 30
#: LTI logins one client address may begin per window. A whole campus may share one NAT
#: address, and a lecture of a thousand launches a quiz in the same minutes, so the cap is
#: high; it only stops a script from opening states without end (they expire anyway).
LTI_LOGINS_PER_ADDRESS = 5000

_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _keys(email: str, address: str | None) -> dict[str, int]:
    """Each counter this try is counted on, with its limit."""
    keys = {_account_key(email): PER_ACCOUNT}
    if address:
        keys[f"ip:{address[:300]}"] = PER_ADDRESS
    # Always the same order, so two upserts on PostgreSQL lock rows in the same order.
    return dict(sorted(keys.items()))


def _account_key(email: str) -> str:
    return f"email:{email.strip().lower()[:300]}"


def reserve_try(session: Session, email: str, address: str | None) -> int:
    """Count one password try for the account and the address, and commit it.

    Returns 0 when the caller may check the password now, else the seconds until the
    window that refused it ends. Every try counts, refused or not, until the window ends;
    a successful login takes its own back (see ``succeeded``).
    """
    return _reserve(session, _keys(email, address))


def reserve_lti_login(session: Session, address: str | None) -> int:
    """Count one LTI login begun from this address, and commit it.

    Returns 0 when the login may go on, else the seconds until the window ends.
    """
    if not address:
        return 0
    return _reserve(session, {f"lti-login:{address[:300]}": LTI_LOGINS_PER_ADDRESS})


def _reserve(session: Session, keys: dict[str, int]) -> int:
    """Raise each key's counter in one upsert and commit; the wait if any is over its limit."""
    now = utcnow()
    table = cast(Table, LoginTries.__table__)
    expired = table.c.window_started_at <= now - WINDOW
    statement: Any = _INSERT[session.get_bind().dialect.name](table).values(
        [{"key": key, "tries": 1, "window_started_at": now} for key in keys]
    )
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "tries": case((expired, 1), else_=table.c.tries + 1),
            "window_started_at": case((expired, now), else_=table.c.window_started_at),
        },
    ).returning(table.c.key, table.c.tries, table.c.window_started_at)
    counted = session.execute(statement).all()
    session.commit()
    return max(
        (_seconds_left(started, now) for key, tries, started in counted if tries > keys[key]),
        default=0,
    )


def _seconds_left(window_started_at: datetime, now: datetime) -> int:
    if window_started_at.tzinfo is None:  # SQLite returns naive UTC
        window_started_at = window_started_at.replace(tzinfo=now.tzinfo)
    return max(1, int((window_started_at + WINDOW - now).total_seconds()) + 1)


def succeeded(session: Session, email: str, address: str | None) -> None:
    """A right password: the account starts afresh, and the try does not count against
    the address (a class behind one NAT address logs in many times a window)."""
    keys = _keys(email, address)
    account = _account_key(email)
    session.execute(delete(LoginTries).where(LoginTries.key == account))
    others = [key for key in keys if key != account]
    if others:
        session.execute(
            update(LoginTries)
            .where(LoginTries.key.in_(others), LoginTries.tries > 0)
            .values(tries=LoginTries.tries - 1)
        )
    session.commit()


def failed(session: Session) -> None:
    """A wrong password (already counted): drop counters whose window has ended, so
    guessing many emails cannot grow the table without bound."""
    forget_ended_windows(session)
    session.commit()


def forget_ended_windows(session: Session) -> None:
    """Delete the counters whose window has ended (they would start afresh anyway)."""
    session.execute(delete(LoginTries).where(LoginTries.window_started_at <= utcnow() - WINDOW))


def tries(session: Session, email: str) -> int:
    """The account's tries in its current window (for tests and operators)."""
    count = session.scalar(
        select(LoginTries.tries).where(
            LoginTries.key == _account_key(email),
            LoginTries.window_started_at > utcnow() - WINDOW,
        )
    )
    return count or 0
