"""Run each built-in variant's own ``fit.R`` in real R and store what it prints.

For every built-in problem with printed output and every seed, this generates the variant,
writes its ``data.csv`` and ``fit.R`` to a scratch folder, runs ``Rscript fit.R`` there and
saves R's stdout with the CSV under ``tests/problem_bank/golden/variants/<problem>_<seed>/``
(``data.csv``, ``r_output.txt``). ``MANIFEST.json`` records the R and package versions and
a hash of each ``fit.R``, so the tests can tell when a fixture was made by another script.
``tests/problem_bank/test_variant_goldens.py`` compares the fixtures with ``output.txt``
without needing R.

Run from the repository root (needs R with glmmTMB, emmeans and performance):
    .venv/bin/python scripts/golden/make_variant_goldens.py [--seeds 1 2 3 4 5] [--out DIR]

It also prints, per variant, whether R's stdout equals our ``output.txt`` byte for byte.

Target layout: current R (>= 4.3, as the lecture), whose ``print(summary(glm))`` has no
"Deviance Residuals" block (R 4.3.0 NEWS: ``print.summary.glm`` gained
``show.residuals = FALSE``). Under an older R, ``r_output.txt`` is made by R 4.2.x with the
Deviance Residuals block removed as R >= 4.3 prints, R's verbatim stdout is kept beside it
as ``r_stdout.txt``, and the variant's manifest entry says so (``r_output``); the tests
check that the two differ by exactly that block.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from problem_bank import builtin_problems, generate  # noqa: E402
from problem_bank.spec import ProblemSpec  # noqa: E402

OUT = ROOT / "tests/problem_bank/golden/variants"
DEFAULT_SEEDS = (1, 2, 3, 4, 5)
R_PACKAGES = ("glmmTMB", "TMB", "lme4", "emmeans", "performance")
#: R's "Deviance Residuals" block in summary(glm): heading, quantiles, the blank line after.
DEVIANCE_RESIDUALS = re.compile(r"\nDeviance Residuals: \n.*?\n(?=\n(?:No )?Coefficients)", re.S)
#: What a manifest entry says about r_output.txt.
VERBATIM = "R's stdout"
BLOCK_REMOVED = "made by R {version}; the Deviance Residuals block removed as R >= 4.3 prints"


def r_version_tuple(version_string: str) -> tuple[int, int]:
    """(4, 2) from "R version 4.2.2 Patched (2022-11-10 r83330)"."""
    major, minor = version_string.split()[2].split(".")[:2]
    return int(major), int(minor)


def as_current_r(stdout: str, version_string: str) -> tuple[str, str]:
    """(r_output.txt, how it was made): R >= 4.3's layout from R's stdout."""
    if r_version_tuple(version_string) >= (4, 3):
        return stdout, VERBATIM
    out, n = DEVIANCE_RESIDUALS.subn("", stdout)
    if n == 0:
        return stdout, VERBATIM
    return out, BLOCK_REMOVED.format(version=version_string.split()[2])


def printed_problems() -> list[ProblemSpec]:
    """Built-in problems whose variants have a dataset and printed R output."""
    return [s for s in builtin_problems().values() if s.dgp is not None and s.output]


def fit_r_sha256(r_script: str) -> str:
    """The hash of a fit.R as the tests recompute it."""
    return hashlib.sha256(r_script.encode("utf-8")).hexdigest()


def run_fit_r(data_csv: str, r_script: str) -> tuple[str, str]:
    """(stdout, stderr) of ``Rscript fit.R`` in a folder holding only data.csv and fit.R."""
    with tempfile.TemporaryDirectory(prefix="mixgrade-golden-") as tmp:
        folder = Path(tmp)
        (folder / "data.csv").write_text(data_csv, encoding="utf-8", newline="\n")
        (folder / "fit.R").write_text(r_script, encoding="utf-8", newline="\n")
        proc = subprocess.run(
            ["Rscript", "fit.R"], cwd=folder, capture_output=True, text=True, check=False
        )
    if proc.returncode != 0:
        raise RuntimeError(f"Rscript failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout, proc.stderr


def r_versions() -> dict[str, str]:
    """R's version and the versions of the packages the scripts load."""
    pkgs = ", ".join(f'"{p}"' for p in R_PACKAGES)
    code = (
        'cat(R.version.string, "\\n", sep = "");'
        f"for (p in c({pkgs})) cat(p, as.character(packageVersion(p)), '\\n')"
    )
    out = subprocess.run(
        ["Rscript", "-e", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    versions = {"R": out[0].strip()}
    versions.update(dict(line.split() for line in out[1:] if line.strip()))
    return versions


def main(argv: list[str] | None = None) -> int:
    """Make the fixtures; exit code 0 even when R differs (the tests judge that)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--problems", nargs="*", help="problem ids (default: all with output)")
    args = parser.parse_args(argv)

    specs = [s for s in printed_problems() if not args.problems or s.id in args.problems]
    manifest_path = args.out / "MANIFEST.json"
    variants: dict[str, dict[str, object]] = {}
    if args.problems and manifest_path.exists():
        # Remaking some problems keeps the other problems' fixtures and manifest entries.
        variants = json.loads(manifest_path.read_text(encoding="utf-8"))["variants"]
        variants = {k: v for k, v in variants.items() if v["problem"] not in args.problems}
    elif args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    versions = r_versions()
    manifest: dict[str, object] = {"made_with": versions, "variants": {}}
    for spec in specs:
        for old in args.out.glob(f"{spec.id}_*"):
            shutil.rmtree(old)
        for seed in args.seeds:
            variant = generate(spec, seed)
            r_stdout, stderr = run_fit_r(variant.data_csv, variant.r_script)
            stdout, how = as_current_r(r_stdout, versions["R"])
            name = f"{spec.id}_{seed}"
            folder = args.out / name
            folder.mkdir()
            (folder / "data.csv").write_text(variant.data_csv, encoding="utf-8", newline="\n")
            (folder / "r_output.txt").write_text(stdout, encoding="utf-8", newline="\n")
            if how != VERBATIM:
                (folder / "r_stdout.txt").write_text(r_stdout, encoding="utf-8", newline="\n")
            variants[name] = {
                "problem": spec.id,
                "version": spec.version,
                "seed": seed,
                "fit_r_sha256": fit_r_sha256(variant.r_script),
                "r_stderr": stderr,
                "r_output": how,
            }
            same = stdout == variant.output
            print(f"{name:<24} {'identical' if same else 'DIFFERS'}")
            if not same:
                diff = difflib.unified_diff(
                    variant.output.splitlines(),
                    stdout.splitlines(),
                    "output.txt",
                    "R",
                    n=0,
                    lineterm="",
                )
                print("\n".join("    " + line for line in diff))
            if stderr.strip():
                print("    R stderr: " + stderr.strip().replace("\n", "\n    "))
    manifest["variants"] = dict(sorted(variants.items()))
    manifest_path.write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
