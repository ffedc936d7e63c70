"""Run one fuzz case under a time and memory bound, allowing only the module's own errors.

Shared by the fuzz tests (tests/problem_bank/test_fuzz.py, tests/graders/test_fuzz_parsing.py):
a case must return or raise one of ``allowed`` within ``seconds`` of wall time and
``megabytes`` of peak Python allocation (tracemalloc), so an input that makes a 100 MB
page or computes for a minute fails the test by name instead of passing slowly.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings

T = TypeVar("T")

#: Short enough for `make test` (each fuzz test runs a few seconds), long enough to find
#: what the limits exist for; the deadline is generous because the test machine is shared.
FUZZ = settings(
    max_examples=100,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def bounded(
    call: Callable[[], T],
    allowed: tuple[type[BaseException], ...],
    *,
    seconds: float = 3.0,
    megabytes: float | None = 20.0,
) -> T | BaseException:
    """``call()``'s value, or the allowed exception it raised; anything else fails.

    tracemalloc slows pure-Python code about eightfold, so ``seconds`` is generous: it
    catches the minutes an unbounded input costs, not a slow machine. ``megabytes=None``
    skips the memory bound (and its cost) where numpy's arrays are the point.
    """
    if megabytes is not None:
        tracemalloc.start()
    t0 = time.perf_counter()
    peak = 0
    try:
        result: Any = call()
    except allowed as exc:
        result = exc
    finally:
        elapsed = time.perf_counter() - t0
        if megabytes is not None:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.2f} s (bound {seconds} s)"
    if megabytes is not None:
        assert peak < megabytes * 2**20, f"allocated {peak / 2**20:.1f} MB (bound {megabytes} MB)"
    return result
