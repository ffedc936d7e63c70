"""Filling ``{placeholders}`` in stories, prompts and solutions with a variant's numbers."""

from __future__ import annotations

import ast
import math
import re
from typing import Any

from problem_bank import expressions as ex
from problem_bank.placeholders import PLACEHOLDER, format_error, split_placeholder

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
    if float(value).is_integer() and abs(value) < 1e15:
        # A count (846 observations) is never "846.000": whole numbers show no decimals,
        # at most rounded to the asked significant digits (12345 at 3 digits: 12300).
        return str(int(signif(float(value), int(fmt)) if fmt else value))
    if fmt is None:
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


def plural(count: float | str, word: str, words: str | None = None) -> str:
    """``1 point``, ``2.5 points``, ``0 redraws``: the count (or its text), then the word
    that fits it."""
    shown = f"{count:g}" if isinstance(count, float) else str(count)
    return f"{shown} {word if shown == '1' else (words or word + 's')}"


def p_value_text(function: str, p: float) -> str:
    """A p-value as the output that prints it shows it: ``< 2e-16``, ``0.0123``, ``< 0.001``.

    Quoting more than R prints (``2.00e-19``, below the double precision R refuses to
    claim) would contradict the output the student reads.
    """
    from problem_bank.printers.performance import p_value_text as performance_p
    from problem_bank.printers.rformat import format_pval

    if function == "dispersion_p":  # performance::check_overdispersion
        text = performance_p(p)
    else:  # printCoefmat's dig.tst: 3 in summary() coefficient tables, 4 in anova tables
        text = format_pval([p], 4 if function == "anova_p" else 3)[0].strip()
    # In a sentence "<2e-16" reads "< 2e-16", as R itself writes "p-value: < 2.2e-16".
    return "< " + text[1:].lstrip() if text.startswith("<") else text


#: Vocabulary functions whose value is a printed p-value (see :func:`p_value_text`).
P_VALUE_FUNCTIONS = frozenset({"pvalue", "anova_p", "dispersion_p"})

#: The end of the text before a placeholder: a binary "+"/"−" or a "×"/"/" with spaces,
#: or an "=". A negative value after one is written as a mathematician would write it.
_BEFORE = re.compile(r"(?:(?<=\s)([+\-−])|([×*/÷])|(=)) $")


def _joined(before: str, rendered: str) -> tuple[str, str]:
    """(text before, value) so that sums read "a − 0.2784", never "a + -0.2784".

    ``+ -x`` → ``− x``, ``− -x`` → ``+ x``, ``× -x`` → ``× (-x)``, and ``p = < 2e-16`` →
    ``p < 2e-16``. Only the operator right before the placeholder is touched.
    """
    m = _BEFORE.search(before)
    if m is None:
        return before, rendered
    head = before[: m.start()]
    if m.group(3) and rendered.startswith("< "):
        return head, rendered
    if not rendered.startswith("-") or m.group(3):
        return before, rendered
    if m.group(1):
        flipped = "−" if m.group(1) == "+" else "+"
        return f"{head}{flipped} ", rendered[1:]
    return before, f"({rendered})"


def _p_value_call(expr: ex.Expression) -> str | None:
    """The function's name when the expression is one p-value call, e.g. pvalue("x")."""
    node = expr.tree
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        return None
    return node.func.id if node.func.id in P_VALUE_FUNCTIONS else None


def render(text: str, ctx: ex.Context) -> str:
    """``text`` with each ``{expr}`` / ``{expr|3}`` / ``{expr|2f}`` replaced by its value.

    Numbers are written by :func:`format_number` (a p-value as its output prints it), and
    a negative number after an operator by :func:`_joined`.
    """
    if "{" not in text:
        return text
    size = len(text)
    out: list[str] = []
    end = 0
    for match in PLACEHOLDER.finditer(text):
        inner, fmt = split_placeholder(match.group(1))
        expr = ex.parse(inner)
        value: Any = expr.evaluate(ctx)
        if isinstance(value, str):
            rendered = value
        elif (function := _p_value_call(expr)) and math.isfinite(float(value)):
            rendered = p_value_text(function, float(value))
        else:
            rendered = format_number(value, fmt)
        before, rendered = _joined("".join([*out, text[end : match.start()]]), rendered)
        out = [before, rendered]
        end = match.end()
        size += len(rendered)
        if size > MAX_RENDERED_CHARS:
            raise ex.ExpressionError(
                f"the text would be longer than {MAX_RENDERED_CHARS:,} characters"
            )
    out.append(text[end:])
    return "".join(out)
