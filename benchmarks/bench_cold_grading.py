"""Cold grading per problem type: issue the variant (generate + fit + print), then grade.

This is what a worker does for a student's first submission when no variant was issued
ahead of time. Prints median and p95 per built-in problem. Run: `make bench`.
"""

from __future__ import annotations

import statistics
import time

import problem_bank
from graders import grade

SEEDS = range(1, 41)


def main() -> None:
    print(
        f"{'problem':<24} {'median ms':>10} {'p95 ms':>8}   (generate + grade, {len(SEEDS)} seeds)"
    )
    for slug in problem_bank.builtin_problems():
        problem_bank.generate_builtin(slug, 0)  # warm imports and caches
        times = []
        for seed in SEEDS:
            started = time.perf_counter()
            variant = problem_bank.generate_builtin(slug, seed)
            feedback = grade(variant, {p.id: p.answer for p in variant.parts})
            times.append((time.perf_counter() - started) * 1000)
            assert feedback.score == 1.0, (slug, seed)
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        print(f"{slug:<24} {statistics.median(times):>10.1f} {p95:>8.1f}")


if __name__ == "__main__":
    main()
