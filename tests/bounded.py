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
    max_examples=150,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def bounded(
    call: Callable[[], T],
    allowed: tuple[type[BaseException], ...],
    *,
    seconds: float = 1.0,
    megabytes: float = 20.0,
) -> T | BaseException:
    """``call()``'s value, or the allowed exception it raised; anything else fails."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        result: Any = call()
    except allowed as exc:
        result = exc
    finally:
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.2f} s (bound {seconds} s)"
    assert peak < megabytes * 2**20, f"allocated {peak / 2**20:.1f} MB (bound {megabytes} MB)"
    return result
