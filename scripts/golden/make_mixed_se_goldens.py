"""Fit every mixed model of the built-in mixed problems in real glmmTMB, for many seeds.

For each problem (mixed_reading, mixed_fitting, random_slope) and seed, this generates the
variant, fits each of its glmmTMB models exactly as the variant's ``fit.R`` does
(``problem_bank.scripts.r_fit_lines``: ML with ``profile = TRUE`` and its SEs recomputed at
the optimum, or ``REML = TRUE``), and stores in
``tests/problem_bank/golden/mixed_se/<problem>_<seed>.json``, per model:

- ``estimate``, ``se``, ``z``: what glmmTMB reports (``fixef``, ``vcov``), full precision;
- ``printed``: the coefficient rows of ``summary(fit)`` as R prints them;
- ``se_at_optimum``: the SEs from TMB's ``sdreport`` at glmmTMB's final parameters (for
  REML, glmmTMB's reported SEs are taken there too; for ML it is what fit.R's extra line
  does: plain ``profile = TRUE`` takes the Hessian where nlminb stopped on the profiled
  objective, before glmmTMB's Newton steps);
- ``max_gradient``: the largest |gradient| of the objective at the final parameters;
- ``data_sha256``: the hash of the data.csv that R read.

``tests/problem_bank/test_mixed_se.py`` compares our fits with these without R.

Run from the repository root (needs R with glmmTMB and jsonlite):
    .venv/bin/python scripts/golden/make_mixed_se_goldens.py [--seeds 1 ... 40]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from problem_bank import builtin_problems, generate  # noqa: E402
from problem_bank.fitting import parse_formula  # noqa: E402
from problem_bank.scripts import r_fit_lines  # noqa: E402
from problem_bank.spec import ProblemSpec  # noqa: E402

OUT = ROOT / "tests/problem_bank/golden/mixed_se"
PROBLEMS = ("mixed_reading", "mixed_fitting", "random_slope")
DEFAULT_SEEDS = tuple(range(1, 41))

#: Per fitted model: what glmmTMB reports and what sdreport gives at its final parameters.
R_DUMP = r"""
suppressPackageStartupMessages({library(glmmTMB); library(jsonlite)})
options(useFancyQuotes = FALSE, width = 80)
dump_fit <- function(fit) {
  cf <- summary(fit)$coefficients$cond
  out <- capture.output(print(summary(fit)))
  start <- grep("^Conditional model:$", out)
  rows <- out[(start[length(start)] + 2):(start[length(start)] + 1 + nrow(cf))]
  reml <- isTRUE(fit$modelInfo$REML)
  par <- fit$fit$par
  sdr <- TMB::sdreport(fit$obj, par.fixed = par, getJointPrecision = reml)
  V <- if (reml) {
    Q <- sdr$jointPrecision
    keep <- which(!rownames(Q) %in% c("b", "bzi"))
    solve(as.matrix(glmmTMB:::GMRFmarginal(Q, keep)))
  } else sdr$cov.fixed
  beta <- which(colnames(V) == "beta")
  list(estimate = unname(cf[, 1]), se = unname(cf[, 2]), z = unname(cf[, 3]),
       printed = rows, se_at_optimum = unname(sqrt(diag(V)[beta])),
       max_gradient = max(abs(fit$obj$gr(par))),
       loglik = as.numeric(logLik(fit)))
}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    specs = builtin_problems()
    versions = subprocess.run(
        ["Rscript", "-e", 'cat(R.version.string, as.character(packageVersion("glmmTMB")))'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for pid in PROBLEMS:
        spec = specs[pid]
        mixed = [n for n, m in spec.models.items() if parse_formula(m.formula).random]
        for seed in args.seeds:
            variant = generate(spec, seed)
            lines = [R_DUMP, f'{spec.data_name} <- read.csv("data.csv")']
            for col in _factor_columns(spec):
                lines.append(f"{spec.data_name}${col} <- factor({spec.data_name}${col})")
            lines.append("res <- list()")
            for name in mixed:
                lines.extend(r_fit_lines(spec, name, "fit"))
                lines.append(f"res[[{json.dumps(name)}]] <- dump_fit(fit)")
            lines.append("cat(toJSON(res, auto_unbox = TRUE, digits = NA))")
            with tempfile.TemporaryDirectory(prefix="mixgrade-se-") as tmp:
                folder = Path(tmp)
                (folder / "data.csv").write_text(variant.data_csv, encoding="utf-8", newline="\n")
                (folder / "dump.R").write_text("\n".join(lines) + "\n", encoding="utf-8")
                proc = subprocess.run(
                    ["Rscript", "dump.R"], cwd=folder, capture_output=True, text=True, check=False
                )
            if proc.returncode != 0:
                print(f"{pid}_{seed}: R failed: {proc.stderr.strip()[:300]}")
                continue
            record = {
                "problem": pid,
                "version": spec.version,
                "seed": seed,
                "made_with": versions,
                "data_sha256": hashlib.sha256(variant.data_csv.encode("utf-8")).hexdigest(),
                "r_stderr": proc.stderr,
                "models": json.loads(proc.stdout),
            }
            (args.out / f"{pid}_{seed}.json").write_text(
                json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8"
            )
            print(f"{pid}_{seed}: ok")
    return 0


def _factor_columns(spec: ProblemSpec) -> list[str]:
    """Grouping columns, read as factors (as fit.R does with its level vectors)."""
    cols: list[str] = []
    for m in spec.models.values():
        for term in parse_formula(m.formula).random:
            if term.group not in cols:
                cols.append(term.group)
    return cols


if __name__ == "__main__":
    sys.exit(main())
