"""The `mixgrade` command: database, demo data, web server, workers, and the libraries' CLIs."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy import select

from graders.celery_app import GRADING_QUEUE, QUEUES, VARIANTS_QUEUE
from graders.cli import grade
from problem_bank.cli import problems
from service.api import cli as api_cli
from service.cli_support import check_broker, check_database, database_session
from service.config import Settings, restrict_new_files
from service.lti import cli as lti_cli


@click.group()
def main() -> None:
    """mixgrade: randomized, auto-graded problems on linear, GLM and mixed models."""
    restrict_new_files()  # what any command writes under instance/ is the owner's alone


main.add_command(problems)
main.add_command(grade)
main.add_command(api_cli.tokens)
main.add_command(lti_cli.lti)


def _settings() -> Settings:
    return Settings.from_env()


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations to DATABASE_URL."""
    from service import migrate

    settings = _settings()
    check_database(settings, migrated=False)
    migrate.upgrade(settings.database_url, revision)
    click.echo(f"database is at revision {revision}")


@main.command()
def demo() -> None:
    """Load the demo course (idempotent) and print its logins."""
    for login in _load_demo(_settings()):
        click.echo(f"  {login.role:<10} {login.email:<28} password: {login.password}")


def _load_demo(settings: Settings):
    from service.services.demo import load_demo

    with database_session(settings) as session:
        return load_demo(session, settings.instance_dir / "demo-logins.txt")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
def serve(host: str, port: int) -> None:
    """Run the development web server (production: granian, see docker-compose.yml)."""
    from werkzeug.serving import run_simple

    from service import create_app
    from service.heap import freeze_startup_heap

    settings = _settings()
    check_database(settings)
    app = create_app(settings=settings)
    freeze_startup_heap()
    run_simple(host, port, app, threaded=True, use_reloader=False)


def _queue_list(_ctx: click.Context, _param: click.Parameter, value: str) -> list[str]:
    """``--queues`` as a list of known queue names; a precise usage error otherwise."""
    names = [q.strip() for q in value.split(",") if q.strip()]
    unknown = [q for q in names if q not in QUEUES]
    if not names or unknown:
        raise click.BadParameter(
            f"unknown queue {unknown[0]!r}; known: {', '.join(QUEUES)}"
            if unknown
            else f"name at least one of: {', '.join(QUEUES)}"
        )
    return list(dict.fromkeys(names))


@main.command()
@click.option("--concurrency", "-c", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--pool",
    default="prefork",
    show_default=True,
    type=click.Choice(["prefork", "solo", "threads"]),
)
@click.option("--beat/--no-beat", default=False, help="Also run the periodic sweep scheduler.")
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("--quiet", is_flag=True, help="No start-up banner.")
@click.option(
    "--queues",
    "-Q",
    default=",".join(QUEUES),
    show_default=True,
    callback=_queue_list,
    help=f"Comma-separated queues: {GRADING_QUEUE} (grading, sweeps) and/or {VARIANTS_QUEUE} "
    "(variant issue; loads statsmodels).",
)
def worker(
    concurrency: int, pool: str, beat: bool, loglevel: str, quiet: bool, queues: list[str]
) -> None:
    """Run a Celery worker that grades submissions and/or issues variants (--queues)."""
    from service import worker as worker_module

    settings = _settings()
    check_database(settings)
    check_broker(settings)
    worker_module.run(
        settings,
        concurrency=concurrency,
        pool=pool,
        beat=beat,
        loglevel=loglevel,
        quiet=quiet,
        queues=queues,
    )


@main.command()
def sweep() -> None:
    """Send submissions stored while the broker was down, and re-queue stuck ones.

    What beat does on its own schedule; run it from cron where no beat runs.
    """
    from service import queue
    from service.services import sweep as sweeping

    settings = _settings()
    with database_session(settings) as session:
        connection = session.connection()
        unpublished = sweeping.claim_unpublished(connection)
        stuck = sweeping.requeue_stuck(connection, settings.stuck_after_seconds)
        session.commit()
    queue.configure(settings)
    sent = sum(queue.send_grading(i) for i in unpublished)
    click.echo(f"sent {sent} of {len(unpublished)} unpublished submissions")
    sent = sum(queue.send_grading(i) for i in stuck)
    click.echo(f"re-queued {sent} of {len(stuck)} stuck submissions")


@main.command()
def rescore() -> None:
    """Recompute every stored score and late flag from the graded feedback.

    Every change of points or dates does this for its assignment (assignment_editing), and
    the gradebook reads the stored scores; run it once after upgrading from a release in
    which points per part could change without it. Changed totals go to the LMS.
    """
    from service import queue
    from service.lti import passback
    from service.models import Assignment
    from service.services import assignment_editing

    settings = _settings()
    queue.configure(settings)
    changed = 0
    with database_session(settings) as session:
        for assignment in session.scalars(select(Assignment).order_by(Assignment.id)).all():
            done = assignment_editing.rescore(session, assignment)
            passback.record_totals(session, assignment, done.students)
            session.commit()
            changed += done.changed
    click.echo(f"rescored: {changed} submissions changed")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
def run(host: str, port: int) -> None:
    """Everything `make run` does: migrate, load the demo, start both worker pools (grading
    with beat; variant issue) and the server."""
    from service import migrate

    settings = _settings()
    signal.signal(signal.SIGTERM, _interrupt)
    with _single_instance(settings.instance_dir / "run.lock"):
        check_database(settings, migrated=False)
        migrate.upgrade(settings.database_url)
        logins = _load_demo(settings)
        check_broker(settings)
        workers = [
            _start_worker(f"--queues={GRADING_QUEUE}", "--beat"),
            _start_worker(f"--queues={VARIANTS_QUEUE}", "--concurrency=1"),
        ]
        click.echo(f"\nmixgrade is running at http://{host}:{port}/  (Ctrl-C stops it)\n")
        click.echo("Demo logins:")
        for login in logins:
            click.echo(f"  {login.role:<10} {login.email:<28} password: {login.password}")
        click.echo("")
        try:
            serve.callback(host=host, port=port)  # type: ignore[misc]
        except KeyboardInterrupt:
            pass
        finally:
            _stop(*workers)
            click.echo("stopped web server and workers")


def _start_worker(*options: str) -> subprocess.Popen[bytes]:
    """One `mixgrade worker` pool as a child of `mixgrade run`."""
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", "worker", *options, "--loglevel=WARNING", "--quiet"]
    )


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _stop(*processes: subprocess.Popen[bytes]) -> None:
    """SIGTERM to all first, so the pools shut down together, then wait for each."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    for process in running:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def _single_instance(lock_path: Path) -> Iterator[None]:
    """Refuse a second `make run` on the same instance folder while one is running."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid = handle.read().strip() or "?"
        raise click.ClickException(
            f"mixgrade is already running from {lock_path.parent} (pid {pid}); "
            "stop it with Ctrl-C first"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


if __name__ == "__main__":
    main()
