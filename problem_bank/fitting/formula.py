"""R's model frame and model matrix for a fit, without patsy.

We build the model matrix ourselves so that column order and column names are exactly
R's (``Dosedose1``, ``IC:Dosedose1``, ``Year2000``) and so that a fit costs only a few
hundred microseconds of setup. The formula, and R's rule for which factor gets contrasts
and how columns are named, live in problem_bank.formula; this module adds the data side:
- character/logical columns become factors with sorted levels; categoricals keep their
  category order; levels absent after dropping missing rows are dropped (``lm`` and ``glm``
  call ``model.frame(drop.unused.levels = TRUE)``);
- numbers read as factor levels the way R prints them (2000.0 is level ``2000``).
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

from problem_bank.formula import Formula, Term


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

    def __init__(self, spec: Formula, data: pd.DataFrame) -> None:
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
        self._codings = spec.codings()
        self.column_names: list[str] = spec.coef_names(self.factor_labels())
        self.assign: list[int] = [-1] if spec.intercept else []
        for ti, (term, coding) in enumerate(zip(spec.terms, self._codings, strict=True)):
            self.assign.extend([ti] * self._term_width(term, coding))
        self.X = self.matrix({v: frame[v].to_numpy() for v in spec.variables}, self.n)
        if spec.random:
            self.groups = {r.group: frame[r.group].astype(str).to_numpy() for r in spec.random}

    # -- coding (the rule is problem_bank.formula's) -----------------------------------
    def factor_labels(self) -> dict[str, list[str]]:
        """Each factor's level labels, as the formula's naming rule takes them."""
        return {v: list(x.labels) for v, x in self.vars.items() if x.labels is not None}

    def _term_width(self, term: Term, coding: tuple[bool, ...]) -> int:
        width = 1
        for v, contrast in zip(term, coding, strict=True):
            labels = self.vars[v].labels
            if labels is not None:
                width *= len(labels) - 1 if contrast else len(labels)
        return width

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
        return np.asarray(self.matrix(cols, 1)[0])

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
