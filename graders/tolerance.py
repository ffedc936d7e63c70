"""Tolerance: the range of numbers that count as a given answer.

The range starts from ``Acceptance.interval``: every value a student can reach by working
from the output *as printed* (coefficients rounded to ``digits`` significant digits), so a
correct hand calculation is never failed for rounding. It is widened by half a unit in the
``digits``-th significant digit of the reference value — exactly what rounding the final
answer to ``digits`` significant digits can add — plus any ``rtol``/``atol`` the author set.
An answer rounded more coarsely than asked therefore usually falls outside.
"""

from __future__ import annotations

import math

from problem_bank.variant import Acceptance

# Boundaries are inclusive up to float noise: "0.237" for 0.2365 at 3 digits must not
# fail because 0.2365 + 0.0005 is 0.23699999999999999 in binary.
_EPSILON = 1e-9


def half_unit(value: float, digits: int) -> float:
    """Half a unit in the ``digits``-th significant digit of ``value`` (0.0005 for 0.236, 3)."""
    if value == 0.0 or not math.isfinite(value):
        return 0.5 * 10.0 ** (-max(digits, 1))
    exponent = math.floor(math.log10(abs(value)))
    return 0.5 * 10.0 ** (exponent - max(digits, 1) + 1)


def bounds(
    reference: float,
    digits: int,
    rtol: float = 0.0,
    atol: float = 0.0,
    interval: tuple[float, float] | None = None,
) -> tuple[float, float]:
    """The closed range [lo, hi] of accepted values around ``reference``.

    The range always contains the reference itself, so the reference answer scores 1 even
    when it is stored rounded and sits just outside an author's interval; it is not widened
    further than that.
    """
    if interval is None:
        lo = hi = reference
    else:
        lo, hi = interval
        if lo > hi:
            lo, hi = hi, lo
    magnitude = reference if reference != 0.0 else max(abs(lo), abs(hi))
    slack = half_unit(magnitude, digits) + rtol * abs(reference) + atol
    noise = _EPSILON * max(abs(lo), abs(hi), slack)
    return min(lo - slack - noise, reference), max(hi + slack + noise, reference)


def acceptance_bounds(acceptance: Acceptance, reference: float) -> tuple[float, float]:
    """:func:`bounds` for a whole-part acceptance (numeric parts)."""
    return bounds(
        reference, acceptance.digits, acceptance.rtol, acceptance.atol, acceptance.interval
    )


def cell_bounds(
    acceptance: Acceptance, references: tuple[float, ...] | list[float]
) -> list[tuple[float, float]]:
    """:func:`bounds` for each cell of a table part, using ``acceptance.intervals[i]``."""
    intervals = acceptance.intervals
    return [
        bounds(
            float(ref),
            acceptance.digits,
            acceptance.rtol,
            acceptance.atol,
            intervals[i] if i < len(intervals) else None,
        )
        for i, ref in enumerate(references)
    ]


def within(value: float, lo_hi: tuple[float, float]) -> bool:
    """True when ``value`` lies in the closed range."""
    return lo_hi[0] <= value <= lo_hi[1]
