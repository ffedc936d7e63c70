"""Every stored variant's fits are checked by statsmodels; a disagreement redraws and logs."""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import Any

import pytest

import problem_bank as pb
from problem_bank import crosscheck
from problem_bank.crosscheck import CHECKS, disagreements, model_kind, second_fit
from problem_bank.dgp import draw_dataset
from problem_bank.generate import generate_with_redraws
from problem_bank.model_view import fit_all

MODEL_PROBLEMS = [pid for pid, spec in pb.builtin_problems().items() if spec.dgp is not None]


def _fits(problem: str, seed: int) -> dict[str, Any]:
    spec = pb.builtin_problems()[problem]
    dataset = draw_dataset(spec, seed, 0)
    return {n: v.fitted for n, v in fit_all(spec, dataset.frame, dataset.levels).items()}


def test_every_builtin_model_kind_has_a_check() -> None:
    kinds = {model_kind(f) for pid in MODEL_PROBLEMS for f in _fits(pid, 0).values()}
    assert kinds <= set(CHECKS), kinds - set(CHECKS)
    assert {"ols", "glm:binomial", "glm:poisson", "mixed"} <= kinds


@pytest.mark.parametrize("problem", MODEL_PROBLEMS)
def test_real_fits_agree_to_every_printed_digit(problem: str) -> None:
    spec = pb.builtin_problems()[problem]
    for seed in range(3):
        variant, redraws = generate_with_redraws(spec, seed, crosscheck=disagreements)
        assert not [r for r in redraws if r.startswith("cross-check")], redraws
        # The check refuses, never changes: a checked variant is the plain one.
        assert variant.to_dict() == pb.generate(spec, seed).to_dict()


def test_double_rounded_print_is_compared_by_digits_not_by_the_printed_interval() -> None:
    # printCoefmat rounds, then formats: -0.5897451591 prints as "-0.58974". Both fits are
    # -0.58975 at those decimals; the printed text's own ±half-unit would refuse both.
    assert crosscheck._agrees(-0.5897451591246627, -0.5897451591246636, "-0.58974")
    assert not crosscheck._agrees(-0.5897451591246627, -0.58976, "-0.58974")
    assert crosscheck._agrees(12.34, 12.3449, "12.34")
    assert not crosscheck._agrees(12.34, 12.3451, "12.34")


def test_a_disagreeing_second_fit_redraws_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    spec = pb.builtin_problems()["logistic_cod"]
    seed = 3
    calls = {"n": 0}

    def perturbed(fitted: Any) -> dict[str, float] | None:
        """The real statsmodels refit, one coefficient moved in the first draw only."""
        theirs = second_fit(fitted)
        calls["n"] += 1
        if calls["n"] == 1 and theirs is not None:
            theirs["Length"] += 1e-3
        return theirs

    def check(fitted: Any, printed: Any) -> list[crosscheck.Disagreement]:
        return disagreements(fitted, printed, second=perturbed)

    with caplog.at_level(logging.WARNING, logger="problem_bank.crosscheck"):
        variant, redraws = generate_with_redraws(spec, seed, crosscheck=check)
    assert redraws and redraws[0].startswith("cross-check: main Length")
    plain = pb.generate(spec, seed)
    assert variant.data_csv != plain.data_csv  # the refused draw was not stored
    (record,) = [r for r in caplog.records if getattr(r, "event", "") == "crosscheck_disagreement"]
    ours = _fits("logistic_cod", seed)["main"].coef("Length")
    assert (record.problem, record.seed, record.attempt) == ("logistic_cod", seed, 0)
    assert (record.model, record.term, record.ours) == ("main", "Length", ours)
    assert record.statsmodels == pytest.approx(ours + 1e-3, rel=1e-6)
    assert "problem=logistic_cod" in record.getMessage() and "term=Length" in record.getMessage()


def test_issue_is_generate_with_the_check() -> None:
    spec = pb.builtin_problems()["mixed_fitting"]
    assert pb.issue(spec, 11).to_dict() == pb.generate(spec, 11).to_dict()


def test_statsmodels_is_imported_only_when_a_variant_is_issued() -> None:
    code = (
        "import sys, problem_bank as pb, graders.engine, graders.tasks\n"
        "pb.generate(pb.builtin_problems()['logistic_cod'], 1)\n"
        "assert 'statsmodels' not in sys.modules, 'generate loaded statsmodels'\n"
        "pb.issue(pb.builtin_problems()['logistic_cod'], 1)\n"
        "assert 'statsmodels' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
