"""R model formulas and R's design matrices, without patsy.

We build the model matrix ourselves so that column order and column names are exactly
R's (``Dosedose1``, ``IC:Dosedose1``, ``Year2000``) and so that a fit costs only a few
hundred microseconds of setup. Supported syntax: ``y ~ a + b``, ``a * b`` (expands to
``a + b + a:b``), ``a:b``, ``- 1`` / ``+ 0`` (no intercept), and for mixed models random
terms ``(1 | g)``, ``(x | g)``, ``(1 + x | g)``, ``(0 + x | g)``.

R's rules reproduced here:
- terms are ordered by interaction order, then by first appearance (``terms.formula``);
- variables inside an interaction term follow their first appearance in the formula;
- character/logical columns become factors with sorted levels; categoricals keep their
  category order; levels absent after dropping missing rows are dropped (``lm`` and ``glm``
  call ``model.frame(drop.unused.levels = TRUE)``);
- a factor in a term is coded by treatment contrasts (first level is the reference) when
  the term without that factor is in the model (the intercept counts as the empty term),
  otherwise by one indicator per level;
- interaction columns vary the first variable fastest.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

Term = tuple[str, ...]

_RANDOM = re.compile(r"\(([^()|]*)\|([^()|]*)\)")
_NAME = re.compile(r"^[A-Za-z.][A-Za-z0-9._]*$|^`[^`]+`$")


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
class ModelSpec:
    """A parsed formula: response, fixed-effect terms in R's order, random terms."""

    formula: str
    response: str
    intercept: bool
    terms: tuple[Term, ...]
    random: tuple[RandomTerm, ...] = ()

    @property
    def variables(self) -> list[str]:
        """Predictor variables in first-appearance order (fixed, then random slopes)."""
        seen: list[str] = []
        for t in self.terms:
            for v in t:
                if v not in seen:
                    seen.append(v)
        for r in self.random:
            for v in r.slopes:
                if v not in seen:
                    seen.append(v)
        return seen

    @property
    def term_labels(self) -> list[str]:
        """R's ``attr(terms, "term.labels")``: ``IC``, ``Dose``, ``IC:Dose``."""
        return [":".join(t) for t in self.terms]


def _strip(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise ValueError(f"unsupported formula element {name!r}")
    return name.strip("`")


def parse_formula(formula: str) -> ModelSpec:
    """Parse an R formula string into a :class:`ModelSpec` (ValueError when unsupported)."""
    if formula.count("~") != 1:
        raise ValueError(f"formula needs exactly one '~': {formula!r}")
    lhs, rhs = formula.split("~")
    response = _strip(lhs)
    random: list[RandomTerm] = []
    for expr, group in _RANDOM.findall(rhs):
        random.append(_parse_random(expr, group))
    rhs = _RANDOM.sub("", rhs)
    intercept = True
    ordered: list[Term] = []  # in order of appearance, before R's reordering
    var_order: list[str] = []
    # Split on '+' and '-' at top level (no nested parentheses are supported here).
    tokens = re.findall(r"([+-]?)\s*([^+-]+)", rhs)
    for sign, chunk in tokens:
        chunk = chunk.strip()
        if not chunk:
            continue
        if chunk in ("0", "1"):
            if chunk == "0" or sign == "-":
                intercept = False
            continue
        if sign == "-":
            raise ValueError(f"removing terms is not supported: {formula!r}")
        factors = chunk.split("*")
        for f in factors:
            for v in f.split(":"):
                v = _strip(v)
                if v not in var_order:
                    var_order.append(v)
        # a*b*c expands to every non-empty subset; each element may itself be a:b.
        parts = [tuple(_strip(v) for v in f.split(":")) for f in factors]
        for k in range(1, len(parts) + 1):
            for combo in itertools.combinations(parts, k):
                vs: list[str] = []
                for p in combo:
                    vs.extend(v for v in p if v not in vs)
                term = tuple(sorted(vs, key=var_order.index))
                if term not in ordered:
                    ordered.append(term)
    if not ordered and not intercept and not random:
        raise ValueError(f"formula has no terms: {formula!r}")
    terms = tuple(sorted(ordered, key=len))  # stable: keeps appearance order per order
    return ModelSpec(formula.strip(), response, intercept, terms, tuple(random))


def _parse_random(expr: str, group: str) -> RandomTerm:
    intercept = True
    slopes: list[str] = []
    for sign, chunk in re.findall(r"([+-]?)\s*([^+-]+)", expr):
        chunk = chunk.strip()
        if chunk in ("0", "1"):
            if chunk == "0" or sign == "-":
                intercept = False
            continue
        if sign == "-":
            raise ValueError(f"unsupported random term ({expr}|{group})")
        slopes.append(_strip(chunk))
    return RandomTerm(_strip(group), intercept, tuple(slopes))


def _level_label(value: Any) -> str:
    """How R prints a factor level made from this value (2000.0 -> "2000")."""
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


@dataclass
class Variable:
    """How one predictor enters the model: numeric, or a factor with its levels."""

    name: str
    levels: list[Any] | None  # None for numeric
    labels: list[str] | None
    mean: float = 0.0

    @property
    def is_factor(self) -> bool:
        return self.levels is not None


class Design:
    """The model frame and model matrix for one fit, with what is needed to predict.

    ``X`` (n x p), ``y`` (n,), ``column_names`` (R's), ``assign`` (term index of each
    column, -1 for the intercept, as R's ``attr(X, "assign")`` minus one).
    """

    def __init__(self, spec: ModelSpec, data: pd.DataFrame) -> None:
        self.spec = spec
        needed = [spec.response, *spec.variables, *[r.group for r in spec.random]]
        missing = [c for c in dict.fromkeys(needed) if c not in data.columns]
        if missing:
            raise KeyError(f"columns not in data: {missing}; have: {list(data.columns)}")
        frame = data[list(dict.fromkeys(needed))]
        keep = ~frame.isna().any(axis=1).to_numpy()
        self.n_deleted = int((~keep).sum())
        frame = frame.loc[keep]
        self.frame = frame
        self.n = len(frame)
        self.vars: dict[str, Variable] = {v: _variable(v, frame[v]) for v in spec.variables}
        self.y, self.response_levels = _response(frame[spec.response])
        self._codings = self._term_codings()
        self.column_names: list[str] = []
        self.assign: list[int] = []
        if spec.intercept:
            self.column_names.append("(Intercept)")
            self.assign.append(-1)
        for ti, term in enumerate(spec.terms):
            for name in self._term_column_names(term, self._codings[ti]):
                self.column_names.append(name)
                self.assign.append(ti)
        self.X = self.matrix({v: frame[v].to_numpy() for v in spec.variables}, self.n)
        if spec.random:
            self.groups = {r.group: frame[r.group].astype(str).to_numpy() for r in spec.random}

    # -- coding --------------------------------------------------------------------------
    def _term_codings(self) -> list[tuple[bool, ...]]:
        """Per term, per variable: True when a factor gets contrasts (drops level 1)."""
        present = set(self.spec.terms)
        codings = []
        for term in self.spec.terms:
            coding = []
            for v in term:
                rest = tuple(x for x in term if x != v)
                coding.append(rest in present if rest else self.spec.intercept)
            codings.append(tuple(coding))
        return codings

    def _term_column_names(self, term: Term, coding: tuple[bool, ...]) -> list[str]:
        pieces: list[list[str]] = []
        for v, contrast in zip(term, coding, strict=True):
            var = self.vars[v]
            if var.is_factor:
                assert var.labels is not None
                labels = var.labels[1:] if contrast else var.labels
                pieces.append([f"{v}{lab}" for lab in labels])
            else:
                pieces.append([v])
        # First variable varies fastest, as R's model.matrix.
        return [":".join(reversed(c)) for c in itertools.product(*reversed(pieces))]

    def matrix(self, columns: Mapping[str, Any], n: int) -> np.ndarray:
        """Model matrix rows for raw variable values (arrays of length n)."""
        out = np.empty((n, len(self.column_names)))
        j = 0
        if self.spec.intercept:
            out[:, 0] = 1.0
            j = 1
        for term, coding in zip(self.spec.terms, self._codings, strict=True):
            blocks: list[np.ndarray] = []
            for v, contrast in zip(term, coding, strict=True):
                var = self.vars[v]
                values = np.asarray(columns[v])
                if var.is_factor:
                    assert var.levels is not None
                    ind = _indicators(values, var)
                    blocks.append(ind[:, 1:] if contrast else ind)
                else:
                    blocks.append(values.astype(float).reshape(n, 1))
            block = blocks[0]
            for b in blocks[1:]:
                # column (i, k) = block_i * b_k with the first variable varying fastest
                block = (block[:, :, None] * b[:, None, :]).reshape(n, -1, order="F")
            out[:, j : j + block.shape[1]] = block
            j += block.shape[1]
        return out

    def row(self, newdata: Mapping[str, Any]) -> np.ndarray:
        """One model-matrix row for a new observation given as ``{variable: value}``."""
        missing = [v for v in self.spec.variables if v not in newdata]
        if missing:
            raise KeyError(f"newdata lacks {missing}; needs {self.spec.variables}")
        cols = {v: np.asarray([newdata[v]], dtype=object) for v in self.spec.variables}
        for v, var in self.vars.items():
            if not var.is_factor:
                cols[v] = cols[v].astype(float)
        return self.matrix(cols, 1)[0]

    # -- questions the emmeans layer asks ----------------------------------------------
    def levels(self, factor: str) -> list[str]:
        """The factor's level labels in R's order; KeyError when not a factor."""
        var = self.vars.get(factor)
        if var is None or not var.is_factor:
            facs = [v for v, x in self.vars.items() if x.is_factor]
            raise KeyError(f"{factor!r} is not a factor in the model; factors: {facs}")
        assert var.labels is not None
        return list(var.labels)

    def contrast_labels(self, factor: str) -> list[str]:
        """The factor's levels as emmeans names them in contrasts.

        As ``contrast.emmGrid`` (``enhance.levels``, ``parens``): when every level reads as a
        number the factor name is prefixed (Area ``1`` -> ``Area1``), and a level containing
        ``-``, ``+``, ``/`` or ``*`` is parenthesised (``(b-1)``).
        """
        labels = self.levels(factor)
        if all(_r_numeric(lab) for lab in labels):
            labels = [f"{factor}{lab}" for lab in labels]
        return [f"({lab})" if _OPERATOR.search(lab) else lab for lab in labels]

    def other_factors(self, factor: str) -> list[str]:
        """Factors of the model other than ``factor``, in the order they enter it."""
        self.levels(factor)
        return [v for v, x in self.vars.items() if x.is_factor and v != factor]

    def in_interaction(self, factor: str) -> bool:
        """Whether ``factor`` appears in a term of order 2 or more."""
        return any(factor in t and len(t) > 1 for t in self.spec.terms)

    def emm_rows(self, factor: str) -> np.ndarray:
        """One linear function per level of ``factor`` giving its estimated marginal mean.

        As emmeans' reference grid: numeric covariates at their mean over the rows used,
        and an equally weighted average over the levels of every other factor.
        """
        target = self.vars[factor]
        assert target.levels is not None
        others = [v for v in self.vars.values() if v.is_factor and v.name != factor]
        combos = list(itertools.product(*[range(len(o.levels or [])) for o in others]))
        rows = []
        for lev in target.levels:
            m = len(combos)
            cols: dict[str, Any] = {factor: np.full(m, lev, dtype=object)}
            for k, o in enumerate(others):
                assert o.levels is not None
                cols[o.name] = np.array([o.levels[c[k]] for c in combos], dtype=object)
            for v in self.vars.values():
                if not v.is_factor:
                    cols[v.name] = np.full(m, v.mean)
            rows.append(self.matrix(cols, m).mean(axis=0))
        return np.array(rows)


#: emmeans' ``parens`` option: levels containing an operator are wrapped in parentheses.
_OPERATOR = re.compile(r"-|\+|/|\*")


def _r_numeric(text: str) -> bool:
    """Whether R's ``as.numeric(text)`` is a number (not NA)."""
    if "_" in text:  # Python's float() accepts digit separators; R does not
        return False
    try:
        return not math.isnan(float(text))
    except ValueError:
        return False


def _indicators(values: np.ndarray, var: Variable) -> np.ndarray:
    assert var.levels is not None and var.labels is not None
    lookup = {lev: i for i, lev in enumerate(var.levels)}
    lookup.update({lab: i for i, lab in enumerate(var.labels)})
    idx = np.empty(len(values), dtype=int)
    for i, val in enumerate(values):
        key = val.item() if isinstance(val, np.generic) else val
        pos = lookup.get(key)
        if pos is None:
            pos = lookup.get(_level_label(key))
        if pos is None:
            raise KeyError(f"{key!r} is not a level of {var.name}; levels: {var.labels}")
        idx[i] = pos
    out = np.zeros((len(values), len(var.levels)))
    out[np.arange(len(values)), idx] = 1.0
    return out


def _variable(name: str, col: pd.Series) -> Variable:
    if isinstance(col.dtype, pd.CategoricalDtype):
        used = set(col.unique())
        levels = [c for c in col.cat.categories if c in used]
    elif pd.api.types.is_bool_dtype(col.dtype):
        levels = sorted(set(col.tolist()))
    elif pd.api.types.is_numeric_dtype(col.dtype):
        return Variable(name, None, None, float(np.mean(col.to_numpy(dtype=float))))
    else:
        levels = sorted(set(col.tolist()), key=str)
    return Variable(name, levels, [_level_label(v) for v in levels])


def _response(col: pd.Series) -> tuple[np.ndarray, list[str] | None]:
    """The response as floats; a two-level factor becomes 0/1 (first level = 0), as glm."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(dtype=float), None
    if pd.api.types.is_numeric_dtype(col.dtype) and not isinstance(col.dtype, pd.CategoricalDtype):
        return col.to_numpy(dtype=float), None
    var = _variable(str(col.name), col)
    assert var.levels is not None
    first = var.levels[0]
    return (col.to_numpy() != first).astype(float), var.labels
