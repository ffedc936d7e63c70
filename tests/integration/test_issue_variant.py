"""The issue_variant task in a real worker process: generates, stores once, never changes."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from service import queue
from service.models import AssignmentProblem, StoredVariant, User
from service.services.variants import seed_for
from tests.integration.stack import prepared_stack


def test_worker_issues_each_variant_once(tmp_path):
    stack, settings = prepared_stack(tmp_path)
    try:
        with stack.session() as session:
            users = session.scalars(select(User.id).where(User.role == "student")).all()
            item = session.scalar(select(AssignmentProblem.id).order_by(AssignmentProblem.id))
        queue.configure(settings)
        for user_id in users:
            assert queue.send_issue_variant(user_id, item)
            assert queue.send_issue_variant(user_id, item)  # a duplicate request is harmless
        stack.start_worker("worker", "--concurrency=2")
        deadline = time.monotonic() + 60
        while True:
            with stack.session() as session:
                count = session.scalar(select(func.count()).select_from(StoredVariant))
            if count >= len(users) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        time.sleep(1.0)  # let the duplicates run too
        with stack.session() as session:
            rows = session.scalars(select(StoredVariant)).all()
        assert len(rows) == len(users), stack.log("worker")
        for row in rows:
            assert row.seed == seed_for(settings.seed_key, row.user_id, item)
            assert row.content["seed"] == row.seed and row.content["parts"]
            assert row.content["data_csv"]
    finally:
        stack.stop()
