"""What the statsmodels cross-check costs: per variant, and per worker process.

Run as a plain script: ``python benchmarks/bench_crosscheck.py [--seeds N] [--starts K]``.
Prints, per built-in problem, the median / p95 ms of ``generate`` (preview, self-test) and
of ``issue`` (generate + cross-check: what is stored); then, for a grading worker
(``--queues=celery``) and a variants worker (``--queues=variants``), the time from spawn
to Celery's "ready." line and the resident memory (VmRSS) of the main process and of the
whole tree (main + one prefork child), and the main process's CPU seconds at "ready."
(steadier than wall time on a shared machine). Workers use the embedded SQLite/broker defaults in
a throwaway instance folder, so no server is needed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import problem_bank as pb  # noqa: E402
from tests.integration.stack import Stack, process_env, process_tree  # noqa: E402


def _ms(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]


def bench_generate(seeds: int) -> None:
    specs = pb.builtin_problems()
    for spec in specs.values():  # warm up imports (statsmodels too) and caches
        pb.issue(spec, 10_000)
    print(f"{'problem':<20} {'generate ms':>16} {'issue ms':>16} {'check ms':>9}")
    for spec in specs.values():
        plain, checked = [], []
        for seed in range(seeds):
            t0 = time.perf_counter()
            pb.generate(spec, seed)
            t1 = time.perf_counter()
            pb.issue(spec, seed)
            t2 = time.perf_counter()
            plain.append(1000 * (t1 - t0))
            checked.append(1000 * (t2 - t1))
        (pm, pp), (cm, cp) = _ms(plain), _ms(checked)
        print(f"{spec.id:<20} {pm:>7.1f} / {pp:>6.1f} {cm:>7.1f} / {cp:>6.1f} {cm - pm:>9.1f}")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of the process so far: start-up cost that load on a shared
    machine does not inflate the way it inflates wall time."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start_once(stack: Stack, name: str, queue: str) -> tuple[float, float, float, float]:
    t0 = time.monotonic()
    process = stack.start_worker(name, f"--queues={queue}", "--concurrency=1")
    while "ready." not in stack.log(name):
        if process.poll() is not None or time.monotonic() - t0 > 120:
            raise RuntimeError(stack.log(name))
        time.sleep(0.02)
    ready = time.monotonic() - t0
    cpu = _cpu_seconds(process.pid)
    time.sleep(1.0)  # let the pool child settle
    tree = process_tree(process.pid)
    main, total = _rss_mib(process.pid), sum(_rss_mib(p) for p in tree)
    stack.stop()
    stack.processes.clear()
    stack.workers.clear()
    (stack.log_dir / f"{name}.log").unlink()  # type: ignore[operator]
    return ready, cpu, main, total


def bench_workers(starts: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = process_env(Path(tmp))
        stack = Stack(env=env, log_dir=Path(tmp))
        stack.prepare()
        print(
            f"\n{'worker':<10} {'ready s (min-max)':>18} {'CPU s':>6} {'main MiB':>9} "
            f"{'tree MiB':>9}"
        )
        for queue, label in (("celery", "grading"), ("variants", "variants")):
            runs = [_start_once(stack, label, queue) for _ in range(starts)]
            ready = [r[0] for r in runs]
            cpu = statistics.median(r[1] for r in runs)
            main = statistics.median(r[2] for r in runs)
            total = statistics.median(r[3] for r in runs)
            spread = f"{statistics.median(ready):.2f} ({min(ready):.2f}-{max(ready):.2f})"
            print(f"{label:<10} {spread:>18} {cpu:>6.2f} {main:>9.0f} {total:>9.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    bench_generate(args.seeds)
    bench_workers(args.starts)


if __name__ == "__main__":
    main()
