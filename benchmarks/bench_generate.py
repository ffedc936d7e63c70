"""Time variant generation per built-in problem: data + reference fit + printed output.

Run as a plain script: ``python benchmarks/bench_generate.py [--seeds N]``. Prints the
median and 95th percentile per problem against the targets (30 ms for problems 1-6,
100 ms for the mixed models). No plot is drawn: plots are not on the generation path.
"""

from __future__ import annotations

import argparse
import statistics
import time

import problem_bank as pb

MIXED_TARGET_MS, OTHER_TARGET_MS = 100.0, 30.0


def _target(spec: pb.ProblemSpec) -> float:
    mixed = any(spec.formula(name).random for name in spec.models)
    return MIXED_TARGET_MS if mixed else OTHER_TARGET_MS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=100)
    args = parser.parse_args()
    specs = pb.builtin_problems()
    for spec in specs.values():  # warm up imports and caches
        pb.generate(spec, 10_000)
    print(f"{'problem':<20} {'median ms':>10} {'p95 ms':>8} {'target':>7}  ok")
    for spec in specs.values():
        times = []
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            pb.generate(spec, seed)
            times.append(1000 * (time.perf_counter() - t0))
        times.sort()
        median = statistics.median(times)
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        target = _target(spec)
        flag = "yes" if median <= target else "NO"
        print(f"{spec.id:<20} {median:>10.1f} {p95:>8.1f} {target:>7.0f}  {flag}")


if __name__ == "__main__":
    main()
