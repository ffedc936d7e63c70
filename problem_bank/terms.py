"""The small subset of R's formula language a spec uses, expanded into R's coefficient names.

A spec's data-generating process gives coefficients by the names R prints (``(Intercept)``,
``Dosedose1``, ``IC:Dosedose1``), so the DGP and the questions speak the same language as
the printed output. This module turns ``y ~ x * Dose + (x | site)`` plus the factor levels
into those names, and a row of predictor values into the design weight of each name.
Treatment coding, first level as reference, as R's default ``contr.treatment``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")
#: Variables crossed by one ``*`` (``a*b*c*d*e`` has 31 terms; each more doubles them).
MAX_CROSSED = 5
#: Fixed terms of one formula.
MAX_TERMS = 64


class FormulaError(ValueError):
    """The formula uses syntax outside the supported subset."""


@dataclass(frozen=True)
class RandomTerm:
    """``(1 | g)`` or ``(x | g)``: the random terms (``(Intercept)`` and slopes) per group."""

    group: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Formula:
    """A parsed formula: response, fixed terms (each a tuple of variables), random terms."""

    text: str
    response: str
    fixed: tuple[tuple[str, ...], ...]
    intercept: bool
    random: tuple[RandomTerm, ...]

    @property
    def variables(self) -> tuple[str, ...]:
        """Predictors the fixed part reads, in order of appearance."""
        seen: dict[str, None] = {}
        for term in self.fixed:
            for v in term:
                seen.setdefault(v, None)
        for r in self.random:
            for t in r.terms:
                if t != "(Intercept)":
                    seen.setdefault(t, None)
        return tuple(seen)

    def term_labels(self) -> list[str]:
        """R's term labels (``x``, ``Dose``, ``x:Dose``), as rows of ``anova``."""
        return [":".join(t) for t in self.fixed]

    def coef_names(self, levels: Mapping[str, list[str]]) -> list[str]:
        """R's coefficient names for these factor levels (treatment coding)."""
        names = ["(Intercept)"] if self.intercept else []
        for term in self.fixed:
            parts: list[list[str]] = [[]]
            for var in term:
                cols = [f"{var}{lvl}" for lvl in levels[var][1:]] if var in levels else [var]
                parts = [[*p, c] for p in parts for c in cols]
            names.extend(":".join(p) for p in parts)
        return names

    def design_row(
        self, values: Mapping[str, Any], levels: Mapping[str, list[str]]
    ) -> dict[str, float]:
        """The weight of each coefficient for one row of predictor values."""
        row: dict[str, float] = {}
        if self.intercept:
            row["(Intercept)"] = 1.0
        for term in self.fixed:
            parts: list[tuple[list[str], float]] = [([], 1.0)]
            for var in term:
                if var not in values:
                    raise KeyError(var)
                if var in levels:
                    value = str(values[var])
                    cols = [
                        (f"{var}{lvl}", 1.0 if value == lvl else 0.0) for lvl in levels[var][1:]
                    ]
                else:
                    cols = [(var, float(values[var]))]
                parts = [([*p, c], w * cw) for p, w in parts for c, cw in cols]
            for p, w in parts:
                row[":".join(p)] = w
        return row


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [s.strip() for s in out]


def parse_formula(text: str) -> Formula:
    """Parse ``y ~ a + b``, ``y ~ a * b``, ``a:b``, ``(1 | g)``, ``(x | g)``, ``- 1``."""
    if text.count("~") != 1:
        raise FormulaError(f"formula {text!r} needs exactly one '~'")
    lhs, rhs = (s.strip() for s in text.split("~"))
    if not _NAME.match(lhs):
        raise FormulaError(f"response {lhs!r} must be a plain column name")
    fixed: list[tuple[str, ...]] = []
    random: list[RandomTerm] = []
    intercept = True
    for raw in _split_top(rhs.replace(" - 1", " + -1"), "+"):
        piece = raw.replace(" ", "")
        if piece in ("1", ""):
            continue
        if piece in ("-1", "0"):
            intercept = False
            continue
        if piece.startswith("("):
            random.append(_random_term(piece))
            continue
        if "*" in piece:
            factors = piece.split("*")
            _check_names(factors, text)
            if len(factors) > MAX_CROSSED:
                raise FormulaError(f"at most {MAX_CROSSED} variables crossed with * in {text!r}")
            for k in range(1, len(factors) + 1):
                for combo in _combinations(factors, k):
                    if combo not in fixed:
                        fixed.append(combo)
            continue
        variables = tuple(piece.split(":"))
        _check_names(list(variables), text)
        if variables not in fixed:
            fixed.append(variables)
    if len(fixed) > MAX_TERMS:
        raise FormulaError(f"{len(fixed)} terms in {text!r}; at most {MAX_TERMS}")
    fixed.sort(key=len)  # R orders main effects before interactions
    return Formula(text, lhs, tuple(fixed), intercept, tuple(random))


def _random_term(piece: str) -> RandomTerm:
    if not piece.endswith(")") or "|" not in piece:
        raise FormulaError(f"random term {piece!r} must look like (1 | group) or (x | group)")
    inner = piece[1:-1]
    left, group = inner.split("|", 1)
    _check_names([group], piece)
    terms = ["(Intercept)"]
    for t in left.split("+"):
        if t in ("1", ""):
            continue
        if t == "0":
            terms.remove("(Intercept)")
            continue
        _check_names([t], piece)
        terms.append(t)
    return RandomTerm(group, tuple(terms))


def _check_names(names: list[str], text: str) -> None:
    for n in names:
        if not _NAME.match(n):
            raise FormulaError(f"{n!r} in {text!r} is not a plain column name")


def _combinations(items: list[str], k: int) -> list[tuple[str, ...]]:
    if k == 0:
        return [()]
    if not items:
        return []
    head, rest = items[0], items[1:]
    return [(head, *c) for c in _combinations(rest, k - 1)] + _combinations(rest, k)
