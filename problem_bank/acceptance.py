"""Acceptance: the one rule for which numbers count as a given answer.

Used by variant generation (the interval stored in each part), the grader, the instructor
preview ("accepted from a to b") and the well-posedness checks (misconceptions told apart),
so what an instructor is shown is exactly what a student is graded by.

The rule, in three steps:

1. **What each printed number shows** (:func:`printed_range`). R prints a leaf (a
   coefficient, a p-value, a ratio...) rounded: ``0.0003`` stands for any value in
   [0.00025, 0.00035], ``<.0001`` for [0, 0.0001], ``Ratio: 0.08`` for [0.075, 0.085]. A
   student may also round what they read to the part's ``digits`` significant digits, as
   the acceptance did before printed precision was used, so a leaf may take any value in
   the union of the two ranges (:func:`leaf_range`). A leaf that is not printed (a BLUP, a
   value only computed) is seen to ``digits`` significant digits.
2. **The interval** stored in :class:`~problem_bank.variant.Acceptance` is the range of the
   answer over every corner of those leaf ranges (``expressions.rounding_interval``).
3. **What is accepted** (:func:`accepted_range`): the interval widened by half a unit in
   the ``digits``-th significant digit of the reference (rounding the final answer),
   plus the author's ``rtol``/``atol``; it always contains the reference itself.

Precision asked. ``digits`` is the number of significant digits a part asks for. An answer
inside the accepted range is right however many digits it has. An answer outside it is
*too coarse* (:func:`too_coarse`) when its last typed digit is coarser than the asked one
(but still shows the reference's leading digit) and the number it stands for (± half a unit
in its last typed digit) overlaps the accepted range; a matching misconception is named
first. ``15`` for t = 15.082 at 3 significant digits is told "Right, but give 3
significant digits". ``15.0`` shows the asked precision (its last digit is the tenths), so
it is simply not correct: 15.082 to 3 significant digits is 15.1. A whole number's
trailing zeros count as typed (``150`` is precise to the unit).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from problem_bank.variant import Acceptance

# Boundaries are inclusive up to float noise: "0.237" for 0.2365 at 3 digits must not
# fail because 0.2365 + 0.0005 is 0.23699999999999999 in binary.
_EPSILON = 1e-9

#: A printed number: ``-0.0003``, ``1.2e-05``, ``846``; a bound ``<.0001``, ``< 0.001``,
#: ``<2e-16`` (R's p-value floors).
_PRINTED = re.compile(r"\s*(<)?\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*")


def half_unit(value: float, digits: int) -> float:
    """Half a unit in the ``digits``-th significant digit of ``value`` (0.0005 for 0.236, 3).

    For 0 (which has no significant digit) it is half a unit in the ``digits``-th decimal.
    """
    if value == 0.0 or not math.isfinite(value):
        return 0.5 * 10.0 ** (-max(digits, 1))
    exponent = math.floor(math.log10(abs(value)))
    return 0.5 * 10.0 ** (exponent - max(digits, 1) + 1)


def last_digit_unit(text: str) -> float:
    """One unit in the last digit of a typed or printed number: 0.0001 for "0.0003",
    1 for "15" and "150", 1e-6 for "1.2e-05"."""
    mantissa, _, exponent = text.strip().lower().lstrip("+-<").strip().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 10.0 ** (int(exponent or 0) - decimals)


def printed_range(text: str) -> tuple[float, float] | None:
    """The values a number printed as ``text`` may have: ± half a unit in its last digit,
    or [0, bound] for a ``<bound`` p-value. None when ``text`` is not a number."""
    m = _PRINTED.fullmatch(text)
    if m is None:
        return None
    value = float(m.group(2))
    if m.group(1):
        return (0.0, value)
    half = last_digit_unit(m.group(2)) / 2.0
    return (value - half, value + half)


def leaf_range(value: float, digits: int, printed: Sequence[str] = ()) -> tuple[float, float]:
    """Every value a student may read a leaf as: as printed (each of ``printed``, where R
    printed it), or rounded to ``digits`` significant digits. The union, so no careful
    reading is marked wrong."""
    h = half_unit(value, digits) if value != 0.0 else 0.0
    lo, hi = value - h, value + h
    for text in printed:
        seen = printed_range(text)
        if seen is not None:
            lo, hi = min(lo, seen[0]), max(hi, seen[1])
    return lo, hi


def accepted_range(
    acceptance: Acceptance, reference: float, interval: tuple[float, float] | None = None
) -> tuple[float, float]:
    """The closed range [lo, hi] of values accepted for ``reference``.

    ``interval`` is the rounding interval (``acceptance.interval`` for a numeric part, one of
    ``acceptance.intervals`` for a table cell; None means the reference alone). It is
    widened by half a unit in the asked digit plus ``rtol``/``atol``, and always contains
    the reference, so a reference stored rounded still scores 1.
    """
    if interval is None:
        lo = hi = reference
    else:
        lo, hi = interval
        if lo > hi:
            lo, hi = hi, lo
    magnitude = reference if reference != 0.0 else max(abs(lo), abs(hi))
    slack = half_unit(magnitude, acceptance.digits) + acceptance.rtol * abs(reference)
    slack += acceptance.atol
    noise = _EPSILON * max(abs(lo), abs(hi), slack)
    return min(lo - slack - noise, reference), max(hi + slack + noise, reference)


def part_range(acceptance: Acceptance, reference: float) -> tuple[float, float]:
    """:func:`accepted_range` of a numeric part (or a misconception) with its own interval."""
    return accepted_range(acceptance, reference, acceptance.interval)


def cell_ranges(acceptance: Acceptance, references: Sequence[float]) -> list[tuple[float, float]]:
    """:func:`accepted_range` for each cell of a table part, with ``acceptance.intervals[i]``."""
    intervals = acceptance.intervals
    return [
        accepted_range(acceptance, float(ref), intervals[i] if i < len(intervals) else None)
        for i, ref in enumerate(references)
    ]


def within(value: float, lo_hi: tuple[float, float]) -> bool:
    """True when ``value`` lies in the closed range."""
    return lo_hi[0] <= value <= lo_hi[1]


def asked_unit(reference: float, digits: int) -> float:
    """One unit in the asked (``digits``-th significant) digit of ``reference``."""
    return 2.0 * half_unit(reference, digits)


def too_coarse(
    value: float, unit: float, reference: float, digits: int, accepted: tuple[float, float]
) -> bool:
    """True when an answer outside ``accepted`` is right but typed too coarsely.

    ``unit`` is one unit in the answer's last typed digit (:func:`last_digit_unit`). The
    answer is too coarse when that digit is coarser than the asked one but not coarser than
    the reference's leading digit (``1`` for 0.732 shows no digit of it), and the range it
    stands for (± half a unit) overlaps the accepted range.
    """
    if unit <= asked_unit(reference, digits) * (1 + _EPSILON):
        return False
    if reference != 0.0 and unit > 10.0 ** math.floor(math.log10(abs(reference))) * (1 + _EPSILON):
        return False
    return value - unit / 2 <= accepted[1] and value + unit / 2 >= accepted[0]


def precision_text(digits: int) -> str:
    """The precision a part asks for, as the student reads it ("3 significant digits")."""
    return f"{digits} significant digit{'s' if digits != 1 else ''}"


#: Significant digits beyond the asked ones in a stated range (the instructor preview).
STATED_EXTRA_DIGITS = 3


def stated_range(lo_hi: tuple[float, float], digits: int) -> tuple[str, str]:
    """An accepted range as the instructor preview states it, rounded *inward* to
    ``digits + STATED_EXTRA_DIGITS`` significant digits (at least to the unit), so every
    number from the first text to the second is accepted and one unit in the last stated
    digit beyond either is not."""
    lo, hi = lo_hi
    magnitude = max(abs(lo), abs(hi))
    if magnitude == 0.0:
        return "0", "0"
    # Never coarser than the units digit, so the last stated digit is the unit ("9010").
    exponent = min(0, math.floor(math.log10(magnitude)) - (digits + STATED_EXTRA_DIGITS) + 1)
    unit = 10.0**exponent
    decimals = max(0, -exponent)
    return (
        f"{math.ceil(lo / unit - _EPSILON) * unit:.{decimals}f}",
        f"{math.floor(hi / unit + _EPSILON) * unit:.{decimals}f}",
    )


def precision_asked(acceptance: Acceptance, reference: float) -> str:
    """What the student page says about precision: "Give 3 significant digits.", adding
    "or the value as the output prints it" when R prints the answer more coarsely."""
    text = f"Give {precision_text(acceptance.digits)}"
    asked = asked_unit(reference, acceptance.digits)
    coarser = any(
        t.lstrip().startswith("<") or last_digit_unit(t) > asked * (1 + _EPSILON)
        for t in acceptance.printed
    )
    return text + (", or the value as the output prints it." if coarser else ".")
