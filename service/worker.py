"""Starting a Celery worker process bound to the SQL grading store."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from celery.signals import worker_init

import service.lti.tasks  # noqa: F401  (registers the LMS score sends on the app)
from graders.celery_app import QUEUES, VARIANTS_QUEUE, celery_app
from graders.tasks import bind_store
from service import queue
from service.config import Settings


def prepare(settings: Settings) -> None:
    """Configure the Celery app and give the tasks their database store."""
    from service.grading_store import SqlGradingStore

    queue.configure(settings)
    bind_store(lambda: SqlGradingStore(settings.database_url, seed_key=settings.seed_key))


#: Modules imported once in the parent, before forking, not per task. statsmodels only
#: where variants are issued (problem_bank.crosscheck): a grading worker never needs it.
_preload: list[str] = ["problem_bank"]


@worker_init.connect
def _import_numeric_stack(**_: object) -> None:
    for module in _preload:
        importlib.import_module(module)


def preloads(queues: Sequence[str]) -> list[str]:
    """What a worker consuming ``queues`` imports before forking."""
    return ["problem_bank", *(["statsmodels.api"] if VARIANTS_QUEUE in queues else [])]


def run(
    settings: Settings,
    *,
    concurrency: int,
    pool: str,
    beat: bool,
    loglevel: str,
    quiet: bool = False,
    queues: Sequence[str] = QUEUES,
) -> None:
    prepare(settings)
    _preload[:] = preloads(queues)
    argv = ["--quiet"] if quiet else []  # no start-up banner, e.g. under `make run`
    argv += [
        "worker",
        f"--concurrency={concurrency}",
        f"--pool={pool}",
        f"--loglevel={loglevel}",
        f"--queues={','.join(queues)}",
        "--without-gossip",
        "--without-mingle",
    ]
    if beat:
        argv += ["--beat", f"--schedule={settings.instance_dir / 'celerybeat-schedule'}"]
    celery_app.worker_main(argv)
