"""The one Celery application, its queues, and the options every task shares.

A module of its own because tasks of two rooms register on it: the graders' (grading,
variant issue, sweeps, self-tests) and the service's LMS score sends (service.lti.tasks),
which the graders must not know. ``service.queue.configure`` adds the broker and the beat
schedule, which depend on the settings. Options that hold for every task are set once in
the app's configuration, not repeated on each task: every task is acknowledged only after
it ran and is delivered again if its worker dies mid-task, so a killed worker loses none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Celery

#: Where grading (and the sweeps beat sends) goes: Celery's default queue.
GRADING_QUEUE = "celery"
#: Where variant issue goes. Issuing cross-checks every fit with statsmodels (~0.5 s CPU
#: and 35 MB more at start, benchmarks/README.md); with issue on its own queue and pool,
#: grading workers never load it and start fast (``mixgrade worker --queues``).
VARIANTS_QUEUE = "variants"
QUEUES = (GRADING_QUEUE, VARIANTS_QUEUE)

#: Retries for transient failures (the database restarting, a lock timeout).
MAX_RETRIES = 5

celery_app = Celery("mixgrade")
celery_app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    task_default_queue=GRADING_QUEUE,
    task_routes={"mixgrade.issue_variant": {"queue": VARIANTS_QUEUE}},
)


def task(name: str, *, max_retries: int = 0) -> Callable[[Callable[..., Any]], Any]:
    """Register a task as ``name``; one that retries is bound, so it can call ``self.retry``."""
    register: Callable[[Callable[..., Any]], Any]  # celery is untyped
    if max_retries:
        register = celery_app.task(name=name, bind=True, max_retries=max_retries)
    else:
        register = celery_app.task(name=name)
    return register
