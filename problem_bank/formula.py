"""R model formulas: the one parser, and R's rule for naming and coding their columns.

A spec's data-generating process gives coefficients by the names R prints
(``(Intercept)``, ``Dosedose1``, ``IC:Dosedose1``); the fitter builds R's model matrix; the
validator checks names a spec uses. All three read the formula here, so a name the DGP
draws is the name the fit prints. Written by hand rather than with patsy because R's
column names and order are the contract (patsy names ``Dose[T.dose1]`` and orders
interactions its own way) and because parsing must refuse hostile input within limits.

Supported: ``y ~ a + b``, ``a * b`` (``a + b + a:b``), ``a:b``, ``- 1`` / ``+ 0`` (no
intercept), random terms ``(1 | g)``, ``(x | g)``, ``(1 + x | g)``, ``(0 + x | g)``.

R's rules reproduced:
- terms are ordered by interaction order, then by first appearance (``terms.formula``);
- variables inside an interaction term follow their first appearance in the formula;
- a factor in a term is coded by treatment contrasts (first level is the reference) when
  the term without that factor is in the model (the intercept counts as the empty term),
  otherwise by one indicator per level (so ``y ~ 0 + Dose`` has ``Dosectrl``);
- interaction columns vary the first variable fastest.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

Term = tuple[str, ...]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")
_RANDOM = re.compile(r"\(([^()|]*)\|([^()|]*)\)")
#: Variables crossed by one ``*`` (``a*b*c*d*e`` has 31 terms; each more doubles them).
MAX_CROSSED = 5
#: Fixed terms of one formula.
MAX_TERMS = 64


class FormulaError(ValueError):
    """The formula uses syntax outside the supported subset."""


@dataclass(frozen=True)
class RandomTerm:
    """A random-effects term ``(expr | group)``: an intercept and/or slopes per group."""

    group: str
    intercept: bool
    slopes: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        """Names of the random effects as R prints them in ``VarCorr``."""
        return (["(Intercept)"] if self.intercept else []) + list(self.slopes)


@dataclass(frozen=True)
class Formula:
    """A parsed formula: response, fixed-effect terms in R's order, random terms."""

    text: str
    response: str
    intercept: bool
    terms: tuple[Term, ...]
    random: tuple[RandomTerm, ...] = ()

    @property
    def variables(self) -> list[str]:
        """Predictor variables in first-appearance order (fixed, then random slopes)."""
        seen: dict[str, None] = {}
        for term in self.terms:
            for v in term:
                seen.setdefault(v, None)
        for r in self.random:
            for v in r.slopes:
                seen.setdefault(v, None)
        return list(seen)

    @property
    def term_labels(self) -> list[str]:
        """R's ``attr(terms, "term.labels")``: ``IC``, ``Dose``, ``IC:Dose``."""
        return [":".join(t) for t in self.terms]

    def codings(self) -> list[tuple[bool, ...]]:
        """Per term, per variable: True when a factor there gets contrasts (drops level 1)."""
        present = set(self.terms)
        out = []
        for term in self.terms:
            coding = []
            for v in term:
                rest = tuple(x for x in term if x != v)
                coding.append(rest in present if rest else self.intercept)
            out.append(tuple(coding))
        return out

    def coef_names(self, levels: Mapping[str, list[str]]) -> list[str]:
        """R's coefficient names, given each factor's level labels (numeric otherwise)."""
        names = ["(Intercept)"] if self.intercept else []
        for term, coding in zip(self.terms, self.codings(), strict=True):
            pieces = []
            for v, contrast in zip(term, coding, strict=True):
                if v in levels:
                    labels = levels[v][1:] if contrast else levels[v]
                    pieces.append([f"{v}{lab}" for lab in labels])
                else:
                    pieces.append([v])
            # First variable varies fastest, as R's model.matrix.
            names.extend(":".join(reversed(c)) for c in itertools.product(*reversed(pieces)))
        return names

    def columns(
        self, values: Mapping[str, Any], levels: Mapping[str, list[str]], n: int
    ) -> dict[str, np.ndarray]:
        """Model-matrix columns by R name for ``n`` rows of raw values (factors as labels)."""
        arrays = {v: np.asarray(values[v]) for v in self.variables if v in values}
        missing = [v for t in self.terms for v in t if v not in arrays]
        if missing:
            raise KeyError(missing[0])
        cols: dict[str, np.ndarray] = {}
        if self.intercept:
            cols["(Intercept)"] = np.ones(n)
        for term, coding in zip(self.terms, self.codings(), strict=True):
            pieces = []
            for v, contrast in zip(term, coding, strict=True):
                if v in levels:
                    labels = levels[v][1:] if contrast else levels[v]
                    as_text = arrays[v].astype(str)
                    pieces.append([(f"{v}{lab}", (as_text == lab).astype(float)) for lab in labels])
                else:
                    pieces.append([(v, arrays[v].astype(float))])
            for combo in itertools.product(*reversed(pieces)):
                name = ":".join(c[0] for c in reversed(combo))
                cols[name] = np.prod([c[1] for c in combo], axis=0) * np.ones(n)
        return {name: cols[name] for name in self.coef_names(levels)}

    def design_row(
        self, values: Mapping[str, Any], levels: Mapping[str, list[str]]
    ) -> dict[str, float]:
        """The weight of each coefficient for one row of predictor values."""
        one = {v: [values[v]] for v in values}
        return {name: float(col[0]) for name, col in self.columns(one, levels, 1).items()}


def _name(text: str, where: str) -> str:
    name = text.strip()
    if not _NAME.match(name):
        raise FormulaError(f"{name!r} in {where!r} is not a plain column name")
    return name


def _signed_chunks(text: str) -> list[tuple[str, str]]:
    """``a + b - 1`` → [("", "a"), ("+", "b"), ("-", "1")], blanks dropped."""
    return [(s, c.strip()) for s, c in re.findall(r"([+-]?)\s*([^+-]+)", text) if c.strip()]


def parse_formula(text: str) -> Formula:
    """Parse an R formula string (FormulaError, a ValueError, when outside the subset)."""
    if text.count("~") != 1:
        raise FormulaError(f"formula {text!r} needs exactly one '~'")
    lhs, rhs = text.split("~")
    if not _NAME.match(lhs.strip()):
        raise FormulaError(f"response {lhs.strip()!r} must be a plain column name")
    response = lhs.strip()
    if not rhs.strip():
        raise FormulaError(f"formula {text!r} has nothing after '~' (write 1 for no predictors)")
    random = [_random_term(expr, group, text) for expr, group in _RANDOM.findall(rhs)]
    rhs = _RANDOM.sub("", rhs)
    if "(" in rhs or ")" in rhs:
        raise FormulaError(
            f"in {text!r}: random terms must look like (1 | group) or (x | group); "
            "functions of variables are not supported"
        )
    intercept = True
    ordered: list[Term] = []  # in order of appearance, before R's reordering
    var_order: list[str] = []
    for sign, chunk in _signed_chunks(rhs):
        if chunk in ("0", "1"):
            if chunk == "0" or sign == "-":
                intercept = False
            continue
        if sign == "-":
            raise FormulaError(f"removing terms is not supported: {text!r}")
        factors = [f.strip() for f in chunk.split("*")]
        if len(factors) > MAX_CROSSED:
            raise FormulaError(f"at most {MAX_CROSSED} variables crossed with * in {text!r}")
        parts = [tuple(_name(v, text) for v in f.split(":")) for f in factors]
        for part in parts:
            var_order.extend(v for v in part if v not in var_order)
        # a*b*c expands to every non-empty subset; each element may itself be a:b.
        for k in range(1, len(parts) + 1):
            for combo in itertools.combinations(parts, k):
                vs: list[str] = []
                for p in combo:
                    vs.extend(v for v in p if v not in vs)
                term = tuple(sorted(vs, key=var_order.index))
                if term not in ordered:
                    ordered.append(term)
                if len(ordered) > MAX_TERMS:
                    raise FormulaError(f"more than {MAX_TERMS} terms in {text!r}")
    if not ordered and not intercept and not random:
        raise FormulaError(f"formula has no terms: {text!r}")
    terms = tuple(sorted(ordered, key=len))  # stable: keeps appearance order per order
    return Formula(text.strip(), response, intercept, terms, tuple(random))


def _random_term(expr: str, group: str, text: str) -> RandomTerm:
    intercept = True
    slopes: list[str] = []
    for sign, chunk in _signed_chunks(expr):
        if chunk in ("0", "1"):
            if chunk == "0" or sign == "-":
                intercept = False
            continue
        if sign == "-":
            raise FormulaError(f"unsupported random term ({expr}|{group}) in {text!r}")
        slopes.append(_name(chunk, text))
    return RandomTerm(_name(group, text), intercept, tuple(slopes))
