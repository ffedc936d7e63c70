"""In-process grading speed: parts graded per second on one core, reference cached.

"Reference cached" means the Variant (with its stored reference answers and intervals) is
already in memory, as in a worker that has loaded it: the figure is the cost of parse →
compare → feedback alone. Target (issue 4): >= 5,000 parts/s.

    .venv/bin/python benchmarks/bench_grading.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graders import grade
from problem_bank.variant import Acceptance, Choice, Misconception, Part, Variant

TARGET = 5_000


def hand_built_variant() -> Variant:
    """A mixed problem: two numeric parts with misconceptions, choice, multi and a table."""
    eta = -1.174032
    p = 1 / (1 + math.exp(-eta))
    misconceptions = (
        Misconception("log_odds", eta, "You reported the log-odds; apply the inverse logit."),
        Misconception("odds", p / (1 - p), "You reported the odds; convert to a probability."),
        Misconception("percent_not_proportion", p * 100, "Give a proportion, not a percent."),
    )
    options = tuple(Choice(i, i.title()) for i in ("fish", "tank", "net", "year"))
    return Variant(
        problem="bench",
        version=1,
        seed=1,
        title="Benchmark",
        story="",
        parts=(
            Part(
                "prob",
                "numeric",
                "π?",
                p,
                Acceptance(digits=3, interval=(0.236127, 0.236223)),
                misconceptions,
            ),
            Part(
                "sd",
                "numeric",
                "SD?",
                1.93,
                Acceptance(digits=3),
                (Misconception("variance_not_sd", 3.7249, "That is the variance."),),
            ),
            Part("unit", "choice", "Unit?", "tank", choices=options, explanation="Tanks."),
            Part(
                "random",
                "multi",
                "Random?",
                ["tank", "net"],
                Acceptance(partial_credit=True),
                choices=options,
            ),
            Part(
                "table",
                "table",
                "π per cell",
                [0.504, 0.236, 0.641, 0.375],
                Acceptance(digits=3, partial_credit=True),
            ),
        ),
    )


def answer_sets() -> list[dict[str, Any]]:
    """A realistic mix: right, misconception, plain wrong, unreadable, missing."""
    return [
        {"prob": "0.236", "sd": "1.93", "unit": "tank", "random": ["net", "tank"],
         "table": ["0.504", "0.236", "0.641", "0.375"]},
        {"prob": "\u22121.17", "sd": "3.72", "unit": "fish", "random": ["tank"],
         "table": [0.504, 0.9, 0.641, 0.375]},
        {"prob": "23.6", "sd": 2.5, "unit": "year", "random": "tank, fish",
         "table": "0.504 0.236 0.641 0.375"},
        {"prob": "1/0", "sd": "", "unit": 3, "random": ["boat"], "table": [0.5]},
        {"prob": 0.3, "unit": "TANK"},
    ]  # fmt: skip


def variants() -> list[Variant]:
    """The hand-built variant, plus built-in problems when the bank has them."""
    found = [hand_built_variant()]
    try:
        import problem_bank

        for slug in sorted(problem_bank.builtin_problems()):
            found.append(problem_bank.generate_builtin(slug, 1))
    except (ImportError, AttributeError):
        pass
    return found


def builtin_answers(v: Variant) -> list[dict[str, Any]]:
    """Full submissions for a built-in variant: the reference, then the k-th misconception.

    Every part is answered in every submission (the reference where a part has no k-th
    misconception), so the figure is not flattered by cheap "unanswered" parts.
    """
    sets: list[dict[str, Any]] = [{p.id: p.answer for p in v.parts}]
    most = max((len(p.misconceptions) for p in v.parts), default=0)
    for k in range(most):
        sets.append(
            {
                p.id: p.misconceptions[k].answer if k < len(p.misconceptions) else p.answer
                for p in v.parts
            }
        )
    return sets


def measure(v: Variant, answers: list[dict[str, Any]], seconds: float) -> list[float]:
    """Parts per second over several rounds of about ``seconds / 5`` each."""
    rates = []
    n_parts = len(v.parts)
    for _ in range(5):
        graded = 0
        start = time.perf_counter()
        deadline = start + seconds / 5
        while time.perf_counter() < deadline:
            for a in answers:
                grade(v, a)
            graded += n_parts * len(answers)
        rates.append(graded / (time.perf_counter() - start))
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per variant")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    print(f"python {sys.version.split()[0]}, one core, reference cached, target {TARGET:,}/s")
    worst = math.inf
    for v in variants():
        answers = answer_sets() if v.problem == "bench" else builtin_answers(v)
        grade(v, answers[0])  # warm up
        rates = measure(v, answers, args.seconds)
        median = statistics.median(rates)
        worst = min(worst, median)
        per_part_us = 1e6 / median
        print(
            f"{v.problem:<24} {len(v.parts)} parts  median {median:>10,.0f} parts/s  "
            f"(min {min(rates):,.0f}, max {max(rates):,.0f}; {per_part_us:.1f} µs/part)"
        )
    verdict = "meets" if worst >= TARGET else "MISSES"
    print(f"slowest median {worst:,.0f} parts/s: {verdict} the {TARGET:,} parts/s target")
    return 0 if worst >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
