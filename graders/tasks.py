"""Celery tasks: a thin shell of load by id → call the pure library → store.

No grading logic lives here. Storage is reached through the :class:`GradingStore`
protocol, which the service binds at worker start-up (``bind_store``), so this package
never imports the web service or its models.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Protocol

from celery.exceptions import MaxRetriesExceededError
from celery.signals import worker_process_init

import problem_bank
from graders.celery_app import MAX_RETRIES, task
from graders.engine import grade
from graders.feedback import Feedback
from problem_bank.variant import Variant

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GradingJob:
    """What a worker needs to grade one submission, loaded from storage."""

    submission_id: int
    variant: dict[str, Any]
    answers: dict[str, Any]


class GradingStore(Protocol):
    """Where submissions are graded: claim one, store its feedback or its failure."""

    def claim(self, submission_id: int) -> GradingJob | None:
        """Mark the submission as grading and return it, or None if it is already done."""

    def save_feedback(self, submission_id: int, feedback: Feedback) -> bool:
        """Store the result unless one is stored already; True when this call stored it."""

    def fail(self, submission_id: int, reason: str) -> None:
        """Record that grading failed for good, with the reason for the instructor."""


class SweepStore(Protocol):
    """What the sweeps need: submissions a lost message or a down broker left behind."""

    def stuck_submissions(self, older_than_seconds: float) -> list[int]:
        """Ids queued or grading for longer than this, now marked as re-queued."""

    def unpublished_submissions(self) -> list[int]:
        """Ids stored but never handed to the broker, now claimed for sending by the caller."""

    def mark_unpublished(self, submission_ids: list[int]) -> None:
        """Record that these claimed or re-queued submissions could not be sent after all."""


class VariantStore(Protocol):
    """Where issued variants are kept (first writer wins; a variant never changes)."""

    def pending_variant(self, user_id: int, item_id: int) -> tuple[str, int] | None:
        """(spec text, seed) of a variant to issue, or None if it is issued already."""

    def save_variant(self, user_id: int, item_id: int, seed: int, content: dict[str, Any]) -> int:
        """Store an issued variant (first writer wins) and return its id."""


class SelftestStore(Protocol):
    """Where an authored problem's self-test reads its spec and keeps its result."""

    def problem_spec(self, problem_id: int) -> str | None:
        """The YAML text of a stored problem version, or None if it is gone."""

    def save_selftest(self, problem_id: int, result: dict[str, Any]) -> None:
        """Keep a self-test result on the problem version it was run on."""


class TaskStore(GradingStore, SweepStore, VariantStore, SelftestStore, Protocol):
    """Everything the tasks store, as the service binds it; each task uses its own part."""


_store: TaskStore | None = None
_store_factory: Any = None


def bind_store(factory: Any) -> None:
    """Give the tasks their storage: a zero-argument callable returning a TaskStore.

    A factory rather than an instance, because each forked worker process must open its
    own database connections.
    """
    global _store, _store_factory
    _store_factory = factory
    _store = None


def store() -> TaskStore:
    global _store
    if _store is None:
        if _store_factory is None:
            raise RuntimeError("no grading store bound: start workers with `mixgrade worker`")
        _store = _store_factory()
    return _store


def _fresh_store_after_fork(**_: Any) -> None:
    global _store
    _store = None


worker_process_init.connect(_fresh_store_after_fork)  # celery's decorator is untyped


class TransientError(Exception):
    """A failure worth retrying (storage unavailable), as opposed to a bug in grading."""


@task("mixgrade.grade_submission", max_retries=MAX_RETRIES)
def grade_submission(self: Any, submission_id: int) -> str:
    """Grade one stored submission. Running it twice stores one result."""
    try:
        job = store().claim(submission_id)
    except TransientError as error:
        return _retry_or_fail(self, submission_id, error)
    if job is None:
        return "already graded"
    _fault_injection_delay()
    try:
        feedback = grade(_parsed(job.variant), job.answers)
    except Exception as error:  # a grading bug is not transient: record it, don't loop
        log.exception("grading submission %s failed", submission_id)
        store().fail(submission_id, f"{type(error).__name__}: {error}")
        return "failed"
    try:
        stored = store().save_feedback(submission_id, feedback)
    except TransientError as error:
        return _retry_or_fail(self, submission_id, error)
    return "graded" if stored else "already graded"


#: Variants parsed by this process, by the identity of the content a store handed out.
_parsed_variants: dict[int, tuple[dict[str, Any], Variant]] = {}
_PARSED_VARIANTS_KEPT = 256


def _parsed(content: dict[str, Any]) -> Variant:
    """The variant in ``content``, parsed once for as long as the store hands out that object.

    Parsing was a seventh of a grading task's instructions, and the SQL store hands out the
    same content object for every submission to a variant (variants never change, so it
    caches them). Keyed by identity, not by variant id, so that content from another store
    or database is never taken for a cached one; the content is kept with its parse, so
    its id cannot be reused while cached.
    """
    cached = _parsed_variants.get(id(content))
    if cached is not None and cached[0] is content:
        return cached[1]
    if len(_parsed_variants) >= _PARSED_VARIANTS_KEPT:
        _parsed_variants.clear()
    variant = Variant.from_dict(content)
    _parsed_variants[id(content)] = (content, variant)
    return variant


def _retry_or_fail(task: Any, submission_id: int, error: Exception) -> str:
    try:
        raise task.retry(exc=error, countdown=min(2**task.request.retries, 30))
    except MaxRetriesExceededError:
        try:
            store().fail(submission_id, f"storage kept failing: {error}")
        except TransientError:
            log.error("submission %s left for the sweep: %s", submission_id, error)
        return "failed"


def _fault_injection_delay() -> None:
    """Tests set MIXGRADE_FAULT_GRADE_DELAY to hold a task mid-grading and kill its worker."""
    delay = float(os.environ.get("MIXGRADE_FAULT_GRADE_DELAY", "0") or 0)
    if delay > 0:
        time.sleep(delay)


@task("mixgrade.issue_variant", max_retries=MAX_RETRIES)
def issue_variant(self: Any, user_id: int, item_id: int) -> int | None:
    """Generate, cross-check and store a student's variant of an item, if not issued yet.

    Routed to the variants queue (graders.celery_app): :func:`problem_bank.issue` imports
    statsmodels.
    """
    pending = store().pending_variant(user_id, item_id)
    if pending is None:
        return None
    spec_text, seed = pending
    variant = problem_bank.issue(problem_bank.parse_spec(spec_text), seed)
    return store().save_variant(user_id, item_id, seed, variant.to_dict())


@task("mixgrade.sweep_stuck")
def sweep_stuck(older_than_seconds: float = 120.0) -> list[int]:
    """Re-queue submissions stuck in queued/grading (a lost message, a killed worker)."""
    return _send_grading(store().stuck_submissions(older_than_seconds))


@task("mixgrade.send_unpublished")
def send_unpublished() -> list[int]:
    """Send what was stored while the broker was down, now that it carries messages again.

    Beat runs this every few seconds; that this task arrived at all shows the broker is
    back. It looks only at rows marked unpublished, so it is cheap when there are none.
    """
    return _send_grading(store().unpublished_submissions())


def _send_grading(submission_ids: list[int]) -> list[int]:
    """Send each id; if the broker goes away midway, the rest are marked unpublished."""
    for sent, submission_id in enumerate(submission_ids):
        try:
            grade_submission.apply_async((submission_id,), retry=False)
        except Exception:  # kombu raises transport-specific connection errors
            store().mark_unpublished(submission_ids[sent:])
            raise
    return submission_ids


#: Wall time one self-test may take on a worker: longer than the web's in-request budget
#: (nobody waits on the page), but bounded, so a costly spec cannot hold a worker.
WORKER_SELFTEST_SECONDS = 120.0


@task("mixgrade.selftest_problem")
def selftest_problem(problem_id: int, seeds: int) -> bool | None:
    """Self-test an authored problem over ``seeds`` seeds, off the web request (it takes s)."""
    spec_text = store().problem_spec(problem_id)
    if spec_text is None:
        return None
    summary = problem_bank.selftest_summary(spec_text, seeds, WORKER_SELFTEST_SECONDS)
    store().save_selftest(problem_id, summary)
    return bool(summary["ok"])
