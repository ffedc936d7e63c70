"""Filling ``{placeholders}`` in stories, prompts and solutions with a variant's numbers."""

from __future__ import annotations

import math
import re
from typing import Any

from problem_bank import expressions as ex
from problem_bank.spec import PLACEHOLDER, format_error, split_placeholder

#: Longest text a story, prompt or solution may render to (a 64 KB spec of ``{x}``s with
#: long values must not become a 20 MB page).
MAX_RENDERED_CHARS = 200_000


def signif(value: float, digits: int) -> float:
    """``value`` rounded to ``digits`` significant digits (R's ``signif``)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def format_number(value: float, fmt: str | None = None) -> str:
    """Plain decimal text: ``fmt`` "3" = 3 significant digits, "2f" = 2 decimals.

    Without a format, integers print as integers and other numbers with up to 6
    significant digits (a drawn 5.3 prints as 5.3). Scientific notation only for tiny
    values, as R prints p-values: students copy these numbers.
    """
    if isinstance(value, bool):
        return "yes" if value else "no"
    if fmt is not None and (problem := format_error(fmt)):
        raise ex.ExpressionError(problem)
    if not math.isfinite(value):
        return str(float(value))  # inf, -inf, nan: as the format-less path always printed
    if fmt and fmt.endswith("f"):
        return f"{value:.{int(fmt[:-1])}f}"
    if fmt is None:
        if float(value).is_integer() and abs(value) < 1e15:
            return str(int(value))
        text = f"{float(value):.6g}"
        if "e" not in text:
            return text
    digits = int(fmt) if fmt else 6
    rounded = signif(float(value), digits)
    if rounded == 0:
        return "0"
    if abs(rounded) < 1e-4:  # as R prints tiny p-values: 1.22e-19
        return f"{rounded:.{digits - 1}e}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(rounded))))
    return f"{rounded:.{decimals}f}"


def render(text: str, ctx: ex.Context) -> str:
    """``text`` with each ``{expr}`` / ``{expr|3}`` / ``{expr|2f}`` replaced by its value."""
    if "{" not in text:
        return text
    size = len(text)

    def fill(match: re.Match[str]) -> str:
        nonlocal size
        inner, fmt = split_placeholder(match.group(1))
        value: Any = ex.parse(inner).evaluate(ctx)
        rendered = value if isinstance(value, str) else format_number(value, fmt)
        size += len(rendered)
        if size > MAX_RENDERED_CHARS:
            raise ex.ExpressionError(
                f"the text would be longer than {MAX_RENDERED_CHARS:,} characters"
            )
        return rendered

    return PLACEHOLDER.sub(fill, text)
