"""The ``{placeholder}`` syntax of stories, prompts and solutions: ``{expr}``, ``{expr|3}``
(significant digits) and ``{expr|2f}`` (decimals).

One module for the spec validator that checks placeholders and the renderer that fills
them, so both read the same syntax.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_DIGITS_SUFFIX = re.compile(r"^(.*)\|\s*(\d+f?)\s*$", re.S)
#: ``{x|15}`` and ``{x|15f}`` at most: a double has no more digits to show, and
#: ``{1|99999999f}`` would print a 100 MB page.
MAX_FORMAT_DIGITS = 15


def placeholders(text: str) -> Iterator[tuple[str, str, str | None]]:
    """Each ``{expr}`` / ``{expr|3}`` / ``{expr|2f}`` in a text: (whole, expr, format)."""
    for m in PLACEHOLDER.finditer(text):
        yield (m.group(0), *split_placeholder(m.group(1)))


def split_placeholder(inner: str) -> tuple[str, str | None]:
    """``coef("x")|4`` → (``coef("x")``, ``"4"``); no format → None."""
    sm = _DIGITS_SUFFIX.match(inner)
    if sm:
        return sm.group(1).strip(), sm.group(2)
    return inner.strip(), None


def format_error(fmt: str) -> str | None:
    """Why a placeholder format (``3`` significant digits, ``2f`` decimals) is refused."""
    digits = int(fmt.removesuffix("f")) if len(fmt) <= 6 else MAX_FORMAT_DIGITS + 1
    low = 0 if fmt.endswith("f") else 1
    if not low <= digits <= MAX_FORMAT_DIGITS:
        kind = "decimals" if fmt.endswith("f") else "significant digits"
        return f"format |{fmt}: {kind} must be {low} to {MAX_FORMAT_DIGITS}"
    return None
