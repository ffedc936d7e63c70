"""Every problem of a spec at once, each with its line, its field and a plain sentence.

:func:`problem_bank.spec.check_text` finds the YAML, shape and meaning errors (the same
collection :func:`~problem_bank.spec.parse_spec` raises the first of);
:mod:`problem_bank.draw_checks` adds what only drawing variants shows (a misconception
that gives the answer itself, a part no seed makes well posed). An editor shows them all
beside their lines; errors block saving, warnings do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from problem_bank.spec import check_text, dotted
from problem_bank.yaml_lines import line_for

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One problem of a spec: what is wrong and what to write instead, and where."""

    message: str
    #: 1-based line in the YAML text (None: the spec as a whole).
    line: int | None
    #: Dotted path as :class:`~problem_bank.spec.SpecError` uses, e.g. ``parts[2].answer``.
    field: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "spec"
        field = f"{self.field}: " if self.field else ""
        return f"{where}: {field}{self.message}"


def diagnose(text: str, *, generate: bool = True, seconds: float = 5.0) -> list[Diagnostic]:
    """Every problem of the spec ``text``, sorted by line (the spec as a whole first).

    With ``generate``, a few seeds are drawn (within about ``seconds`` of wall time) to
    find what only a variant shows, leaving out the pieces already refused; nothing is
    drawn when the data, a model or a param is refused (every draw needs them).
    """
    checked = check_text(text)
    found = [Diagnostic(e.reason, e.line, e.field) for e in checked.errors]
    if generate and checked.spec is not None:
        from problem_bank.draw_checks import draw_problems  # numpy and the fitters

        found.extend(
            Diagnostic(message, line_for(checked.lines, loc), dotted(loc), severity)
            for loc, message, severity in draw_problems(
                checked.spec, seconds, [e.field for e in checked.meaning]
            )
        )
    return sorted(found, key=lambda d: d.line or 0)
