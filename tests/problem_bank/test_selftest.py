"""The self-test over every built-in problem (the common checks, as scikit-learn's)."""

from __future__ import annotations

import pytest

import problem_bank as pb
from problem_bank.self_test import run_selftest


@pytest.mark.parametrize("problem_id", list(pb.builtin_problems()))
def test_builtin_problem_passes_selftest(problem_id: str) -> None:
    report = run_selftest(pb.builtin_problem(problem_id), seeds=50)
    assert report.ok, report.summary()
    assert len(report.results) == 50


def test_report_shape() -> None:
    report = run_selftest(pb.builtin_problem("simple_regression"), seeds=2)
    data = report.to_dict()
    assert data["problem"] == "simple_regression" and data["ok"] is True
    assert [r["seed"] for r in data["results"]] == [0, 1]
    assert report.summary().startswith("ok")
