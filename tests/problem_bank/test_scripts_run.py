"""The downloadable fit.py, run as a student runs it, prints the variant's reference numbers.

Each script runs in its own Python process, in a folder holding only data.csv and fit.py.
The processes start together (one fixture) so that the statsmodels imports overlap.
What is compared, and how closely:

- the estimates fit.py prints with 7 significant digits, against the reference fit's
  coefficients: relative 1e-6 for lm/glm (the rounding of 7 digits is <= 5e-7);
  relative 2e-4 for mixed models, whose statsmodels optimizers stop short of the optimum
  (the best of three fits was within 8.4e-5 of ours on 60 seeds of each mixed problem);
- for mixed models, the random-effect and residual SDs, at the same 2e-4;
- the Tukey t ratios and p-values, the dispersion ratio and the zero counts, against the
  digits output.txt (R's printout) shows.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from problem_bank import Variant, builtin_problems, generate

#: (problem, seed) pairs run: one per model family and printed extra.
RUNS = [
    ("additive_dose", 2),  # lm, anova, Tukey pairs
    ("logistic_cod", 1),  # binomial glm, rows with missing values
    ("poisson_zeros", 3),  # poisson glm, dispersion and zero counts
    ("random_slope", 4),  # mixed model; statsmodels' default optimizer fails here
]
FIXED_RTOL = 1e-6
MIXED_RTOL = 2e-4

_ROW = re.compile(r"^(\S+)\s+(-?\d[\d.]*(?:e[-+]?\d+)?)$")


@dataclass
class Run:
    """One fit.py run: the variant it was written for and what the script printed."""

    variant: Variant
    stdout: str
    stderr: str
    returncode: int


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    started = []
    for problem, seed in RUNS:
        v = generate(builtin_problems()[problem], seed)
        folder = tmp_path_factory.mktemp(f"{problem}_{seed}")
        (folder / "data.csv").write_text(v.data_csv, encoding="utf-8", newline="\n")
        (folder / "fit.py").write_text(v.python_script, encoding="utf-8", newline="\n")
        proc = subprocess.Popen(
            [sys.executable, "fit.py"],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append((problem, v, proc))
    out = {}
    for problem, v, proc in started:
        stdout, stderr = proc.communicate(timeout=120)
        out[problem] = Run(v, stdout, stderr, proc.returncode)
    yield out


def r_name(statsmodels_name: str) -> str:
    """R's coefficient name: Intercept -> (Intercept), Dose[T.dose1] -> Dosedose1."""
    if statsmodels_name == "Intercept":
        return "(Intercept)"
    return statsmodels_name.replace("[T.", "").replace("]", "")


def printed_estimates(stdout: str) -> dict[str, float]:
    """The ``name value`` rows after fit.py's "Estimates:" / "Fixed effects:" line."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line in ("Estimates:", "Fixed effects:"))
    out = {}
    for line in lines[start + 1 :]:
        m = _ROW.match(line)
        if not m:
            break
        out[r_name(m[1])] = float(m[2])
    return out


def printed_after(stdout: str, label: str) -> list[float]:
    """The numbers on the line starting with ``label`` ("Residual SD:" -> [19.22...])."""
    line = next(line for line in stdout.splitlines() if line.startswith(label))
    return [float(x) for x in line[len(label) :].strip(" []").split()]


@pytest.mark.parametrize(("problem", "seed"), RUNS, ids=[p for p, _ in RUNS])
def test_fit_py_runs_cleanly(runs: dict[str, Run], problem: str, seed: int) -> None:
    run = runs[problem]
    assert run.returncode == 0, run.stderr
    assert "Warning" not in run.stderr, run.stderr


@pytest.mark.parametrize(("problem", "seed"), RUNS, ids=[p for p, _ in RUNS])
def test_fit_py_prints_the_reference_coefficients(
    runs: dict[str, Run], problem: str, seed: int
) -> None:
    run = runs[problem]
    ref = {k: c["estimate"] for k, c in run.variant.reference["coefficients"].items()}
    got = printed_estimates(run.stdout)
    assert set(got) == set(ref)
    rtol = MIXED_RTOL if run.variant.reference["family"] == "mixed" else FIXED_RTOL
    for name, value in ref.items():
        assert math.isclose(got[name], value, rel_tol=rtol), name


def test_fit_py_prints_the_reference_sds(runs: dict[str, Run]) -> None:
    run = runs["random_slope"]
    varcorr = run.variant.reference["varcorr"]
    want = [t["sd"] for t in varcorr["terms"]]
    got = printed_after(run.stdout, "Random-effect SDs:")
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert math.isclose(g, w, rel_tol=MIXED_RTOL)
    (residual,) = printed_after(run.stdout, "Residual SD:")
    assert math.isclose(residual, varcorr["residual_sd"], rel_tol=MIXED_RTOL)


def test_fit_py_tukey_pairs_match_emmeans(runs: dict[str, Run]) -> None:
    run = runs["additive_dose"]
    r_rows = _table_rows(run.variant.output, " contrast ")
    py_rows = _table_rows(run.stdout, " contrast ")
    assert [r[:3] for r in r_rows] == [p[:3] for p in py_rows]  # "a", "-", "b"
    for r, p in zip(r_rows, py_rows, strict=True):
        assert float(p[-2]) == float(r[-2])  # t ratio, 3 decimals in both
        if r[-1] == "<.0001":
            assert float(p[-1]) < 0.0001
        else:
            assert p[-1] == r[-1]  # p-value, 4 decimals in both


def _table_rows(text: str, header: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip() or line.startswith("P value"):
            break
        rows.append(line.split())
    return rows


def test_fit_py_dispersion_and_zeros_match_performance(runs: dict[str, Run]) -> None:
    run = runs["poisson_zeros"]
    r = run.variant.output
    ratio = re.search(r"dispersion ratio = +(\S+)", r)
    observed = re.search(r"Observed zeros: (\d+)", r)
    predicted = re.search(r"Predicted zeros: (\d+)", r)
    assert ratio and observed and predicted
    assert re.search(rf"dispersion ratio = {ratio[1]} ", run.stdout)
    assert f"observed zeros: {observed[1]} " in run.stdout
    assert f"predicted zeros: {predicted[1]} " in run.stdout


def test_every_fit_py_compiles() -> None:
    """Problems not run above still get syntactically valid scripts."""
    for spec in builtin_problems().values():
        if spec.dgp is None:
            continue
        source = generate(spec, 1).python_script
        compile(source, f"{spec.id}/fit.py", "exec")


def test_fit_py_reads_only_its_own_folder() -> None:
    source = generate(builtin_problems()["simple_regression"], 1).python_script
    assert 'here / "data.csv"' in source
    assert str(Path.cwd()) not in source
