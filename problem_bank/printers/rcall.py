"""How R deparses the call shown under ``Call:`` (formula spacing, 60-column line breaks)."""

from __future__ import annotations

import re


def deparse_formula(formula: str) -> str:
    """The formula as R deparses it: spaces around ``~ + - * |``, none around ``:`` and ``^``."""
    s = re.sub(r"\s+", "", formula)
    s = re.sub(r"([~+*|])", r" \1 ", s)
    s = re.sub(r"(?<=[^\s(~+*|])-", " - ", s)
    s = re.sub(r"\s+", " ", s).strip()
    return s.replace("( ", "(").replace(" )", ")")


def deparse_call(fun: str, args: list[tuple[str, str]], cutoff: int = 60) -> str:
    """``deparse(call)`` joined by newlines: after each ``", "`` R starts a new line
    (indented four spaces) once the current line is longer than ``cutoff`` bytes."""
    lines: list[str] = []
    cur = fun + "("
    for i, (name, value) in enumerate(args):
        cur += f"{name} = {value}" if name else value
        if i < len(args) - 1:
            cur += ", "
            if len(cur) > cutoff:
                lines.append(cur)
                cur = "    "
    lines.append(cur + ")")
    return "\n".join(lines)
