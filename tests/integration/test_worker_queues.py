"""Two real worker pools: grading workers never load statsmodels; variants go to their pool."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select

from service import queue
from service.models import AssignmentProblem, StoredVariant, User
from tests.integration.stack import Stack, prepared_stack, process_tree


def _statsmodels_mapped(pid: int) -> bool:
    """Whether statsmodels' compiled modules are mapped in the process: sys.modules as seen
    from outside (``import statsmodels.api`` maps over a hundred of them)."""
    return "/statsmodels/" in Path(f"/proc/{pid}/maps").read_text()


def _wait_ready(stack: Stack, name: str, deadline: float) -> None:
    while "ready." not in stack.log(name):
        assert time.monotonic() < deadline, stack.log(name)
        time.sleep(0.2)


def test_variant_issue_runs_on_its_own_pool_and_grading_stays_small(tmp_path):
    stack, settings = prepared_stack(tmp_path)
    try:
        grading = stack.start_worker("grading", "--queues=celery", "--concurrency=1")
        variants = stack.start_worker("variants", "--queues=variants", "--concurrency=1")
        deadline = time.monotonic() + 60
        _wait_ready(stack, "grading", deadline)
        _wait_ready(stack, "variants", deadline)
        with stack.session() as session:
            user = session.scalar(select(User.id).where(User.role == "student"))
            item = session.scalar(select(AssignmentProblem.id).order_by(AssignmentProblem.id))
        queue.configure(settings)
        assert queue.send_issue_variant(user, item)
        while True:
            with stack.session() as session:
                row = session.scalar(select(StoredVariant).where(StoredVariant.user_id == user))
            if row is not None:
                break
            assert time.monotonic() < deadline, stack.log("variants")
            time.sleep(0.2)
        assert row.content["parts"]
        time.sleep(0.5)  # the success line follows the commit
        assert "Task mixgrade.issue_variant[" in stack.log("variants")
        assert "Task mixgrade.issue_variant[" not in stack.log("grading")
        loaded = [p for p in process_tree(grading.pid) if _statsmodels_mapped(p)]
        assert not loaded, stack.log("grading")
        assert any(_statsmodels_mapped(p) for p in process_tree(variants.pid))
    finally:
        stack.stop()
