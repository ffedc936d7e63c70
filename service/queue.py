"""Configuring the Celery app from Settings, and sending work without ever losing it."""

from __future__ import annotations

import logging
import ssl
from typing import Any

from kombu import Connection
from kombu import pools as kombu_pools
from kombu.exceptions import OperationalError as KombuOperationalError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from graders.celery_app import celery_app
from graders.tasks import grade_submission, issue_variant, selftest_problem
from service import redis_broker
from service.config import Settings, redact_url
from service.db import make_engine
from service.embedded_broker import EMBEDDED_SCHEME, TRANSPORT_PATH
from service.lti.launch import STATE_LIFETIME
from service.services import sweep

log = logging.getLogger(__name__)

#: How often beat has the unpublished submissions sent: what the web tier stored while the
#: broker was down reaches a worker this long after the broker is back, at most (plus the
#: worker's own reconnection). With nothing to send it costs one lookup in an empty index.
SEND_UNPUBLISHED_EVERY = 2.0
#: A send-unpublished message older than this is dropped unrun (later ones do its work),
#: so that beat's messages do not pile up while no worker is consuming.
SEND_UNPUBLISHED_EXPIRES = 60.0
#: Pauses between a worker's (or beat's) attempts to reach a broker that went away: the
#: first, then growing by as much up to the longest.
RECONNECT_FIRST, RECONNECT_LONGEST = 0.5, 2.0


class BrokerConnection(Connection):
    """kombu's connection, trying again at most RECONNECT_LONGEST s apart when it is lost.

    Celery's worker consumer and beat reconnect through ``ensure_connection`` with kombu's
    default pauses, 2, 4, 6 … up to 30 s, and offer no setting for them: after an outage
    of half a minute a worker would start consuming again some 10 s after the broker
    returned, everything sent meanwhile waiting. One more refused TCP connection per
    worker every 2 s costs nothing, so the pauses are kept short. Callers that pass their
    own (``check_broker``) keep them.
    """

    def ensure_connection(
        self,
        errback: Any = None,
        max_retries: int | None = None,
        interval_start: float = RECONNECT_FIRST,
        interval_step: float = RECONNECT_FIRST,
        interval_max: float = RECONNECT_LONGEST,
        **options: Any,
    ) -> Connection:
        return super().ensure_connection(
            errback, max_retries, interval_start, interval_step, interval_max, **options
        )


class BrokerUnavailable(RuntimeError):
    """The broker named by CELERY_BROKER_URL cannot be reached."""


def configure(settings: Settings, *, in_requests: bool = False) -> None:
    """Point the shared Celery app at the configured broker.

    ``in_requests``: this process publishes from inside web requests. A broker that is
    down is then given up at the first refused connection, where kombu would retry with
    growing pauses for about 6 s: every submission (and the server thread serving it)
    would wait that long for a 202 that says the same. The submission is stored either
    way, marked unpublished, and beat has it sent once the broker is back (within
    ``SEND_UNPUBLISHED_EVERY`` seconds). Workers keep kombu's retries.
    """
    broker_url, transport = settings.broker_url, None
    options: dict[str, object] = {}
    use_ssl: dict[str, object] | bool = False
    if broker_url.startswith(EMBEDDED_SCHEME):
        broker_url, transport = broker_url[len(EMBEDDED_SCHEME) :], TRANSPORT_PATH
    else:
        options.update(socket_connect_timeout=2, socket_timeout=5, visibility_timeout=3600)
        # The same short pauses when a producer (a worker sending re-queues) reconnects.
        options.update(
            interval_start=RECONNECT_FIRST,
            interval_step=RECONNECT_FIRST,
            interval_max=RECONNECT_LONGEST,
        )
        if in_requests:
            options["max_retries"] = 0
    if broker_url.startswith(redis_broker.REDIS_SCHEMES):
        transport = redis_broker.TRANSPORT_PATH
        use_ssl = _rediss_default_ssl(broker_url)
    _drop_pooled_connections()
    # Every broker connection the app makes (consumer, beat, producers) is built from this.
    celery_app.amqp.Connection = BrokerConnection
    _unpublished.open(settings.database_url)
    celery_app.conf.update(
        broker_url=broker_url,
        broker_transport=transport,
        broker_use_ssl=use_ssl,
        result_backend=settings.result_backend,
        broker_transport_options=options,
        # Fail fast when publishing: a stored submission that cannot be sent stays queued,
        # marked unpublished, and is sent later, so a web request never hangs on a dead broker.
        task_publish_retry=False,
        beat_schedule={
            "send-unpublished-submissions": {
                "task": "mixgrade.send_unpublished",
                "schedule": SEND_UNPUBLISHED_EVERY,
                "options": {"expires": SEND_UNPUBLISHED_EXPIRES},
            },
            "sweep-stuck-submissions": {
                "task": "mixgrade.sweep_stuck",
                "schedule": max(1.0, settings.stuck_after_seconds / 4),
                "args": (float(settings.stuck_after_seconds),),
            },
            # Abandoned LTI logins (50 anonymous GETs of /lti/login are 50 rows) are gone
            # one lifetime after they were made, even when no further login purges them.
            "purge-lti-login-states": {
                "task": "mixgrade.lti.purge_login_states",
                "schedule": STATE_LIFETIME.total_seconds(),
            },
            # LMS scores recorded while the broker was down get their first send here.
            "send-unsent-lms-scores": {
                "task": "mixgrade.lti.resend_never_tried",
                "schedule": 300.0,
                "args": (300.0,),
            },
        },
    )


def _rediss_default_ssl(broker_url: str) -> dict[str, object] | bool:
    """The TLS options kombu would infer from a rediss:// URL that names none.

    kombu turns TLS on for the ``rediss`` scheme only when it picks the transport from the
    URL; with an explicit transport (ours) the scheme is not looked at again, so its
    default is passed on here. ``ssl_*`` query parameters in the URL take precedence, as
    they do in kombu.
    """
    if not broker_url.startswith("rediss://") or "ssl_" in broker_url.partition("?")[2]:
        return False
    log.warning(
        "CELERY_BROKER_URL uses rediss:// without ssl_cert_reqs: the broker's certificate "
        "is not verified (add ?ssl_cert_reqs=required to verify it)"
    )
    return {"ssl_cert_reqs": ssl.CERT_NONE}


def _drop_pooled_connections() -> None:
    """Forget connections to a previously configured broker.

    An app factory may run more than once in a process (tests do); Celery keeps its
    connection and producer pools bound to the first broker it used and offers no public
    reset, so the pools are dropped here and rebuilt lazily from the new settings. kombu
    also keeps them in process-wide registries keyed by broker, which would hand the closed
    pools out again if the same broker were configured again, so those are emptied too.
    """
    if celery_app._pool is not None:
        kombu_pools.reset()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None


def check_broker(settings: Settings) -> None:
    """Raise BrokerUnavailable with one line naming CELERY_BROKER_URL if it is unreachable."""
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=3)
    except Exception as error:  # kombu raises transport-specific errors here
        raise BrokerUnavailable(
            f"cannot reach the broker: check CELERY_BROKER_URL "
            f"(tried {redact_url(settings.broker_url)}): {error}"
        ) from None


def send_grading(submission_id: int) -> bool:
    """Queue a stored, committed submission for grading; False if the broker is down.

    A submission that could not be sent is marked unpublished (one UPDATE, only then), so
    that it is sent within seconds of the broker's return rather than after the stuck
    sweep's threshold. Every caller gets this, whatever it sends (a submit, a regrade).
    """
    if _send(grade_submission, submission_id):
        return True
    _unpublished.record(submission_id)
    return False


def send_issue_variant(user_id: int, item_id: int) -> bool:
    return _send(issue_variant, user_id, item_id)


def send_selftest(problem_id: int, seeds: int) -> bool:
    return _send(selftest_problem, problem_id, seeds)


class _UnpublishedRecord:
    """The database where failed grading sends are marked, connected at the first failure.

    Its own small engine, because a send happens after the caller's commit, out of reach
    of its session; a process whose sends all succeed never connects it.
    """

    def __init__(self) -> None:
        self._url: str | None = None
        self._engine: Engine | None = None

    def open(self, database_url: str) -> None:
        if database_url != self._url:
            self.close()
            self._url = database_url

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        self._engine = None

    def record(self, submission_id: int) -> None:
        """One UPDATE; a pooled connection the database dropped meanwhile is replaced once."""
        if self._url is None:
            return
        if self._engine is None:
            self._engine = make_engine(self._url, pre_ping=False, autocommit=True)
        for attempt in (1, 2):
            try:
                with self._engine.connect() as connection:
                    sweep.mark_unpublished(connection, [submission_id])
                return
            except (SQLAlchemyError, OSError) as error:
                if attempt == 1 and getattr(error, "connection_invalidated", False):
                    continue
                # Still queued in the database: the stuck sweep sends it after its threshold.
                log.error("submission %s not marked unpublished: %s", submission_id, error)
                return


_unpublished = _UnpublishedRecord()


def _send(task, *args: object) -> bool:
    try:
        # The argument reprs Celery puts in the message, given: its own safe repr (made for
        # arbitrary objects) was 2 % of a submit request; ours are a few ints.
        task.apply_async(args=args, retry=False, argsrepr=repr(args), kwargsrepr="{}")
    except (KombuOperationalError, OSError, ConnectionError) as error:
        log.warning("broker unavailable, %s%s not sent: %s", task.name, args, error)
        return False
    return True
