"""The problem bank: (problem, seed) → Variant. A pure library: no Flask, DB or Celery.

Public API::

    parse_spec(text) -> ProblemSpec          # validate an authored YAML spec (SpecError)
    diagnose(text, generate=True, seconds=5.0) -> list[Diagnostic]   # every problem at once
    builtin_problems() -> dict[str, ProblemSpec]
    generate(spec, seed, budget=None) -> Variant     # OverBudget past ``budget`` seconds
    generate_builtin(slug, seed) -> Variant   # UnknownProblem for an unknown id
    issue(spec, seed) -> Variant             # generate + statsmodels cross-check: to store
    selftest(spec, seeds=50, budget=None) -> SelfTestReport   # stops when budget is spent
    plot_png(spec, variant) -> bytes
    plot_text(spec, variant) -> str                 # what the plot shows, in words (alt text)
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import TYPE_CHECKING, Any

from problem_bank.diagnostics import Diagnostic, diagnose
from problem_bank.generate import GenerationError, InvalidSeed, OverBudget, generate
from problem_bank.spec import ProblemSpec, SpecError, parse_spec
from problem_bank.variant import Variant
from problem_bank.yaml_lines import MAX_SPEC_BYTES

if TYPE_CHECKING:
    from problem_bank.self_test import SelfTestReport


class UnknownProblem(KeyError):
    """No built-in problem has this id; the message lists the ids that exist."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown problem"


@functools.cache
def builtin_problems() -> dict[str, ProblemSpec]:
    """The built-in problems (``problem_bank/specs/*.yaml``), by id, in file-name order."""
    out: dict[str, ProblemSpec] = {}
    folder = resources.files("problem_bank") / "specs"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            spec = parse_spec(entry.read_text(encoding="utf-8"))
            out[spec.id] = spec
    return out


def builtin_problem(slug: str) -> ProblemSpec:
    """One built-in spec; :class:`UnknownProblem` names the valid ids."""
    problems = builtin_problems()
    if slug not in problems:
        raise UnknownProblem(f"unknown problem {slug!r}; known: {', '.join(sorted(problems))}")
    return problems[slug]


def generate_builtin(slug: str, seed: int) -> Variant:
    """The variant of a built-in problem for ``seed``."""
    return generate(builtin_problem(slug), seed)


def issue(spec: ProblemSpec, seed: int) -> Variant:
    """The variant to STORE for ``seed``: :func:`generate`, with every fit cross-checked
    by statsmodels (:mod:`problem_bank.crosscheck`; a disagreeing draw is redrawn and
    logged). Imports statsmodels on first use, so only variant issuers pay for it."""
    from problem_bank.crosscheck import disagreements

    return generate(spec, seed, crosscheck=disagreements)


def selftest(spec: ProblemSpec, seeds: int = 50, budget: float | None = None) -> SelfTestReport:
    """Generate ``seeds`` variants and check each is well posed (see :mod:`.self_test`);
    with ``budget`` seconds, stop when it is spent and say why in the report."""
    from problem_bank.self_test import run_selftest

    return run_selftest(spec, seeds, budget=budget)


def selftest_summary(
    spec_text: str, seeds: int = 50, budget: float | None = None, name: str = "spec"
) -> dict[str, Any]:
    """The self-test of a stored spec's text, as the summary an instructor reads.

    A stored spec that no longer parses (it predates a limit it now exceeds) fails its
    self-test with that reason instead of raising, wherever the self-test runs (request
    or worker), so its row never stays "running".
    """
    try:
        spec = parse_spec(spec_text)
    except SpecError as error:
        return {
            "ok": False,
            "seeds": 0,
            "summary": f"FAIL {name}: the spec is no longer valid: {error}",
            "failures": [],
        }
    return selftest(spec, seeds, budget=budget).to_summary()


def plot_png(spec: ProblemSpec, variant: Variant) -> bytes:
    """The variant's plot as PNG bytes (matplotlib, imported only when called)."""
    from problem_bank.plots import plot_variant

    return plot_variant(spec, variant)


def plot_text(spec: ProblemSpec, variant: Variant) -> str:
    """What the variant's plot shows, in words: its alt text and caption ("" if none)."""
    from problem_bank.plots import plot_text as describe

    return describe(spec, variant)


__all__ = [
    "MAX_SPEC_BYTES",
    "Diagnostic",
    "GenerationError",
    "InvalidSeed",
    "OverBudget",
    "ProblemSpec",
    "SpecError",
    "UnknownProblem",
    "Variant",
    "builtin_problem",
    "builtin_problems",
    "diagnose",
    "generate",
    "generate_builtin",
    "parse_spec",
    "plot_png",
    "plot_text",
    "selftest",
    "selftest_summary",
]
