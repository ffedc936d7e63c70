"""The one Celery app and the options its tasks share (graders.celery_app)."""

from __future__ import annotations

import graders.tasks  # noqa: F401  (registers the graders' tasks)
import service.lti.tasks
from graders.celery_app import MAX_RETRIES, VARIANTS_QUEUE, celery_app

OURS = {name: t for name, t in celery_app.tasks.items() if name.startswith("mixgrade.")}


def test_both_rooms_register_on_the_one_app() -> None:
    assert {"mixgrade.grade_submission", "mixgrade.issue_variant", "mixgrade.sweep_stuck",
            "mixgrade.send_unpublished", "mixgrade.selftest_problem",
            "mixgrade.lti.send_score", "mixgrade.lti.resend_never_tried",
            "mixgrade.lti.purge_login_states"} <= set(OURS)  # fmt: skip


def test_every_task_acks_late_and_is_redelivered_when_its_worker_dies() -> None:
    for name, t in OURS.items():
        assert t.acks_late is True, name
        assert t.reject_on_worker_lost is True, name


def test_tasks_that_retry_are_bound_with_their_limit() -> None:
    assert OURS["mixgrade.grade_submission"].max_retries == MAX_RETRIES
    assert OURS["mixgrade.issue_variant"].max_retries == MAX_RETRIES
    assert OURS["mixgrade.lti.send_score"].max_retries == service.lti.tasks.MAX_RETRIES
    for name in ("mixgrade.grade_submission", "mixgrade.issue_variant", "mixgrade.lti.send_score"):
        task = OURS[name]
        assert getattr(task.run, "__self__", None) is task, f"{name} cannot call self.retry"


def test_variant_issue_is_routed_to_its_own_queue() -> None:
    route = celery_app.amqp.router.route({}, "mixgrade.issue_variant")
    assert route["queue"].name == VARIANTS_QUEUE
