"""The self-test: generate many seeds of a problem and check every variant is a fair question.

Checked per seed: a well-posed draw exists (the fits converge; no separation, boundary
variance or probability printed as 0/1), every reference answer is finite, every factor
level is in the CSV, the reference answer grades as correct against its own acceptance
(:mod:`problem_bank.acceptance`, the rule the grader applies), every misconception answer
is told apart from the correct one and from the other misconceptions, what a wrong choice
is told does not name the right one, and (scenario problems) every scenario's keys follow
from its declared facts, with one true reason only.
"""

from __future__ import annotations

import io
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from problem_bank.generate import Deadline, GenerationError, OverBudget, generate_with_redraws
from problem_bank.render import plural
from problem_bank.scenarios import library_problems
from problem_bank.spec import ProblemSpec
from problem_bank.variant import Variant
from problem_bank.wellposed import part_problems, probability_parts

DEFAULT_SEEDS = 50


@dataclass
class SeedResult:
    seed: int
    problems: list[str]
    redraws: int
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class SelfTestReport:
    """Per-seed results for one problem; ``ok`` when no seed failed."""

    problem: str
    version: int
    results: list[SeedResult] = field(default_factory=list)
    #: Why the self-test stopped before its last seed (the time budget), else None.
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        return self.stopped is None and all(r.ok for r in self.results)

    @property
    def failures(self) -> list[SeedResult]:
        return [r for r in self.results if not r.ok]

    def summary(self) -> str:
        """One line: problem, seeds passed, redraws, median time; then one line per failure."""
        n = len(self.results)
        times = sorted(r.seconds for r in self.results) or [0.0]
        # A seed that could not be generated at all has redraws = -1: not a count.
        redraws = sum(r.redraws for r in self.results if r.redraws > 0)
        head = (
            f"{'ok  ' if self.ok else 'FAIL'} {self.problem} v{self.version}: "
            f"{n - len(self.failures)}/{plural(n, 'seed')} passed, {plural(redraws, 'redraw')}, "
            f"median {1000 * times[len(times) // 2]:.1f} ms"
        )
        lines = [head]
        if self.stopped:
            lines.append(f"     {self.stopped}")
        for r in self.failures[:10]:
            lines.append(f"     seed {r.seed}: {'; '.join(r.problems)}")
        return "\n".join(lines)

    def to_summary(self, max_failures: int = 20) -> dict[str, Any]:
        """What an instructor needs to see: passed or not, on how many seeds, and why not."""
        out: dict[str, Any] = {
            "ok": self.ok,
            "seeds": len(self.results),
            "summary": self.summary(),
            "failures": [
                {"seed": r.seed, "problems": list(r.problems)} for r in self.failures[:max_failures]
            ],
        }
        if self.stopped:
            out["stopped"] = self.stopped
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "version": self.version,
            "ok": self.ok,
            "stopped": self.stopped,
            "results": [{**asdict(r), "ok": r.ok} for r in self.results],
        }


def check_variant(spec: ProblemSpec, variant: Variant) -> list[str]:
    """Everything that makes this variant unfair or ungradable, as reasons."""
    problems: list[str] = []
    if spec.scenarios is not None:
        # Generation redraws past a scenario whose key is not the only right answer, so a
        # student never meets it; here it must fail, whichever scenario this seed drew.
        problems.extend(library_problems(spec.scenarios.library))
    probabilities = probability_parts(spec)
    for part in variant.parts:
        problems.extend(part_problems(part, part.id in probabilities))
    if spec.dgp is not None:
        frame = pd.read_csv(io.StringIO(variant.data_csv), dtype=str, keep_default_na=False)
        for factor, levels in spec.factor_levels().items():
            present = set(frame[factor])
            missing = [lv for lv in levels if lv not in present]
            if missing:
                problems.append(f"level {missing[0]} of {factor} is not in the data")
    return problems


def run_selftest(
    spec: ProblemSpec, seeds: int = DEFAULT_SEEDS, start: int = 0, budget: float | None = None
) -> SelfTestReport:
    """Self-test ``seeds`` consecutive seeds from ``start``.

    With ``budget`` (seconds of wall time for the whole run) the self-test stops when it is
    spent, checked between seeds and between the steps of each one, and says so in the
    report (``stopped``) with the slowest seed, so the author knows what to make smaller.
    """
    report = SelfTestReport(spec.id, spec.version)
    deadline = Deadline(budget) if budget is not None else None
    for seed in range(start, start + seeds):
        t0 = time.perf_counter()
        try:
            if deadline is not None:
                deadline.check(f"seed {seed}")
            variant, redraws = generate_with_redraws(spec, seed, deadline=deadline)
        except OverBudget:
            assert deadline is not None
            report.stopped = _stopped(report, deadline, seed, time.perf_counter() - t0)
            break
        except GenerationError as exc:
            report.results.append(SeedResult(seed, [str(exc)], -1, time.perf_counter() - t0))
            continue
        elapsed = time.perf_counter() - t0
        report.results.append(SeedResult(seed, check_variant(spec, variant), len(redraws), elapsed))
    return report


def _stopped(report: SelfTestReport, deadline: Deadline, seed: int, unfinished: float) -> str:
    """E.g. "the self-test stopped after 20 s, 2 of 20 seeds done: generating one variant
    took 9.1 s (seed 1); reduce n, the number of groups or parts"."""
    slowest = max(report.results, key=lambda r: r.seconds, default=None)
    if slowest is None or unfinished > slowest.seconds:
        took = f"seed {seed} was still generating after {unfinished:.1f} s"
    else:
        took = f"generating one variant took {slowest.seconds:.1f} s (seed {slowest.seed})"
    return (
        f"the self-test stopped after {deadline.elapsed:.0f} s (its budget is "
        f"{deadline.seconds:g} s), {plural(len(report.results), 'seed')} done: {took}; "
        "reduce n, the number of groups or the number of parts"
    )
