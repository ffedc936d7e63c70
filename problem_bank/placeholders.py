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


#: ``{x:.3f}``, ``{p:.2}``, ``{n:d}``: Python's format mini-language, which placeholders
#: do not use (it would read as part of the expression).
_PYTHON_FORMAT = re.compile(
    r"^(.+?):\s*[<>^=]?[+\- ]?#?0?(\d*)[,_]?(?:\.(\d+))?([a-zA-Z%]?)\s*$", re.S
)


def python_format_error(inner: str) -> str | None:
    """What to write instead of a Python-style format (``{x:.3f}`` → ``{x|3f}``), or None."""
    m = _PYTHON_FORMAT.match(inner)
    if m is None:
        return None
    expr, digits, kind = m.group(1).strip(), m.group(3) or m.group(2), m.group(4)
    if digits and kind in ("f", "F", "%"):
        instead = f"{{{expr}|{digits}f}} for {digits} decimals"
    elif digits:
        instead = f"{{{expr}|{digits}}} for {digits} significant digits"
    else:
        instead = f"{{{expr}|3}} for 3 significant digits or {{{expr}|2f}} for 2 decimals"
    return f"a placeholder's format follows a bar, not a colon: write {instead}"
