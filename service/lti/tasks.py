"""The Celery task that posts a recorded score to the LMS, with retries and backoff.

Registered on the one Celery app (graders.celery_app), but kept here: the graders know
nothing of HTTP or LTI. A platform that is down delays a score (exponential backoff up
to an hour, for about a day); after that the row is marked failed, stays visible to the
instructor, and ``mixgrade lti resend --failed`` or the course's LMS page sends it again.
"""

from __future__ import annotations

import os
from typing import Any

from celery.signals import worker_process_init
from sqlalchemy.orm import Session, sessionmaker

from graders.celery_app import task
from service.lti import advantage, passback

#: Retries before a send is marked failed (with backoff capped at MAX_BACKOFF: ~1 day).
MAX_RETRIES = 30
MAX_BACKOFF = 3600.0

_sessions: sessionmaker[Session] | None = None


def retry_base() -> float:
    """First retry delay in seconds; tests shorten it with MIXGRADE_LTI_RETRY_BASE."""
    return float(os.environ.get("MIXGRADE_LTI_RETRY_BASE", "10") or 10)


def _session_factory() -> sessionmaker[Session]:
    global _sessions
    if _sessions is None:
        from service.config import Settings
        from service.db import make_engine, make_session_factory

        _sessions = make_session_factory(make_engine(Settings.from_env().database_url))
    return _sessions


@worker_process_init.connect
def _fresh_sessions_after_fork(**_: Any) -> None:
    global _sessions
    _sessions = None


@task(passback.SEND_SCORE_TASK, max_retries=MAX_RETRIES)
def send_score(self: Any, send_id: int) -> str:
    """Post one recorded score; retry with exponential backoff while the LMS is unavailable."""
    with _session_factory()() as session:
        try:
            return passback.deliver(session, send_id)
        except advantage.PlatformUnavailable as error:
            if self.request.retries >= self.max_retries:
                passback.give_up(session, send_id, str(error))
                return "failed"
            delay = min(MAX_BACKOFF, retry_base() * 2**self.request.retries)
            raise self.retry(exc=error, countdown=delay) from None


@task("mixgrade.lti.resend_never_tried")
def resend_never_tried(older_than_seconds: float = 300.0) -> list[int]:
    """Periodic sweep: send scores recorded while the broker was unreachable."""
    with _session_factory()() as session:
        return passback.resend_never_tried(session, older_than_seconds)


@task("mixgrade.lti.purge_login_states")
def purge_login_states() -> int:
    """Periodic sweep: delete OIDC login states older than their lifetime, and the login
    counters whose window has ended.

    Each login purges states too; this covers a tool that sees no logins for a while.
    """
    from service.lti import launch
    from service.services import login_limits

    with _session_factory()() as session:
        purged = launch.purge_login_states(session)
        login_limits.forget_ended_windows(session)
        session.commit()
        return purged
