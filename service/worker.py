"""Starting a Celery worker process bound to the SQL grading store."""

from __future__ import annotations

from celery.signals import worker_init

from graders.tasks import bind_store, celery_app
from service import queue
from service.config import Settings


def prepare(settings: Settings) -> None:
    """Configure the Celery app and give the tasks their database store."""
    from service.grading_store import SqlGradingStore

    queue.configure(settings)
    bind_store(lambda: SqlGradingStore(settings.database_url, seed_key=settings.seed_key))


@worker_init.connect
def _import_numeric_stack(**_: object) -> None:
    # Import statsmodels and the bank once in the parent, before forking, not per task.
    import statsmodels.api  # noqa: F401

    import problem_bank  # noqa: F401


def run(
    settings: Settings,
    *,
    concurrency: int,
    pool: str,
    beat: bool,
    loglevel: str,
    quiet: bool = False,
) -> None:
    prepare(settings)
    argv = ["--quiet"] if quiet else []  # no start-up banner, e.g. under `make run`
    argv += [
        "worker",
        f"--concurrency={concurrency}",
        f"--pool={pool}",
        f"--loglevel={loglevel}",
        "--without-gossip",
        "--without-mingle",
    ]
    if beat:
        argv += ["--beat", f"--schedule={settings.instance_dir / 'celerybeat-schedule'}"]
    celery_app.worker_main(argv)
