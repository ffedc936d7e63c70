"""Plots of a variant's data as the lecture draws them, as PNG bytes.

matplotlib (Agg) is imported only when a plot is drawn: generating a variant never pays
for it. Groups always differ by marker *and* line style, never by colour alone. Lines come
from the stored reference coefficients (R names), so plotting needs no refit.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from problem_bank.spec import FactorPredictor, NumericPredictor, ProblemSpec
from problem_bank.variant import Variant

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)))

PlotFunction = Callable[[Any, ProblemSpec, pd.DataFrame, dict[str, float]], None]


def _frame(spec: ProblemSpec, variant: Variant) -> pd.DataFrame:
    levels = spec.factor_levels()
    frame = pd.read_csv(io.StringIO(variant.data_csv), dtype={c: "string" for c in levels})
    for col, lv in levels.items():
        frame[col] = pd.Categorical(frame[col], categories=lv)
    return frame


def _coefs(variant: Variant) -> dict[str, float]:
    return {
        k: float(v["estimate"])
        for k, v in variant.reference.get("coefficients", {}).items()
        if v.get("estimate") is not None
    }


def _eta(spec: ProblemSpec, coefs: dict[str, float], values: dict[str, Any]) -> float:
    row = spec.formula().design_row(values, spec.factor_levels())
    return sum(w * coefs.get(name, 0.0) for name, w in row.items())


def _numeric_x(spec: ProblemSpec) -> str:
    assert spec.dgp is not None
    for name, p in spec.dgp.predictors.items():
        if isinstance(p, NumericPredictor):
            return name
    raise ValueError("this plot needs a numeric predictor")


def _factor(spec: ProblemSpec) -> str | None:
    assert spec.dgp is not None
    for name, p in spec.dgp.predictors.items():
        if isinstance(p, FactorPredictor):
            return name
    return None


def _defaults(spec: ProblemSpec, frame: pd.DataFrame) -> dict[str, Any]:
    """Reference level for factors, mean for numbers: where other predictors are held."""
    values: dict[str, Any] = {}
    for name, lv in spec.factor_levels().items():
        values[name] = lv[0]
    for name in frame.columns:
        if name not in values and pd.api.types.is_numeric_dtype(frame[name]):
            values[name] = float(frame[name].mean())
    return values


def _scatter(ax: Any, spec: ProblemSpec, frame: pd.DataFrame, coefs: dict[str, float]) -> None:
    """Points and the fitted regression line."""
    x, y = _numeric_x(spec), spec.formula().response
    ax.scatter(frame[x], frame[y], marker="o", facecolors="none", edgecolors="black")
    grid = np.linspace(frame[x].min(), frame[x].max(), 50)
    base = _defaults(spec, frame)
    ax.plot(grid, [_eta(spec, coefs, {**base, x: g}) for g in grid], "-", color="C0", lw=2)
    ax.set_xlabel(x)
    ax.set_ylabel(y)


def _group_lines(ax: Any, spec: ProblemSpec, frame: pd.DataFrame, coefs: dict[str, float]) -> None:
    """ANCOVA / interaction: one marker and one line style per level of the factor."""
    x, y, factor = _numeric_x(spec), spec.formula().response, _factor(spec)
    assert factor is not None
    base = _defaults(spec, frame)
    for i, level in enumerate(spec.factor_levels()[factor]):
        sub = frame[frame[factor] == level]
        ax.scatter(sub[x], sub[y], marker=MARKERS[i % len(MARKERS)], color=f"C{i}", alpha=0.6)
        grid = np.linspace(sub[x].min(), sub[x].max(), 20)
        line = [_eta(spec, coefs, {**base, x: g, factor: level}) for g in grid]
        ax.plot(
            grid,
            line,
            linestyle=LINESTYLES[i % len(LINESTYLES)],
            color=f"C{i}",
            lw=2,
            marker=MARKERS[i % len(MARKERS)],
            markevery=[0, -1],
            label=str(level),
        )
    ax.legend(title=factor)
    ax.set_xlabel(x)
    ax.set_ylabel(y)


def _mixed_groups(ax: Any, spec: ProblemSpec, frame: pd.DataFrame, coefs: dict[str, float]) -> None:
    """Points by group with each group's own least-squares line; the fixed-effect line bold."""
    assert spec.dgp is not None and spec.dgp.groups is not None
    x, y, group = _numeric_x(spec), spec.formula().response, spec.dgp.groups.name
    groups = list(dict.fromkeys(frame[group].astype(str)))
    for i, level in enumerate(groups):
        sub = frame[frame[group].astype(str) == level]
        style = dict(color=f"C{i % 10}", marker=MARKERS[i % len(MARKERS)])
        ax.scatter(sub[x], sub[y], alpha=0.6, **style)
        if sub[x].nunique() > 1:
            slope, intercept = np.polyfit(sub[x], sub[y], 1)
            grid = np.array([sub[x].min(), sub[x].max()])
            ax.plot(
                grid,
                intercept + slope * grid,
                linestyle=LINESTYLES[i % len(LINESTYLES)],
                label=level,
                **style,
            )
    grid = np.linspace(frame[x].min(), frame[x].max(), 20)
    fixed = [_eta(spec, coefs, {x: g}) for g in grid]
    ax.plot(grid, fixed, color="black", lw=3, label="fixed effects")
    ax.legend(title=group, fontsize="small", ncol=2)
    ax.set_xlabel(x)
    ax.set_ylabel(y)


def _zeros(ax: Any, spec: ProblemSpec, frame: pd.DataFrame, coefs: dict[str, float]) -> None:
    """Observed vs Poisson-expected frequency of each count (hatched = expected)."""
    y = spec.formula().response
    used = frame.dropna()
    mu = np.array([math.exp(_eta(spec, coefs, row)) for row in used.to_dict("records")])
    counts = used[y].astype(int).to_numpy()
    top = int(min(counts.max(), 20))
    ks = np.arange(top + 1)
    observed = np.array([(counts == k).sum() for k in ks])
    from scipy.stats import poisson

    expected = np.array([poisson.pmf(k, mu).sum() for k in ks])
    ax.bar(ks - 0.2, observed, width=0.4, color="C0", edgecolor="black", label="observed")
    ax.bar(
        ks + 0.2,
        expected,
        width=0.4,
        color="white",
        edgecolor="black",
        hatch="//",
        label="expected (Poisson)",
    )
    ax.set_xlabel(y)
    ax.set_ylabel("number of observations")
    ax.legend()


def _logistic(ax: Any, spec: ProblemSpec, frame: pd.DataFrame, coefs: dict[str, float]) -> None:
    """0/1 outcomes (jittered) and the fitted probability curve for each level of a factor."""
    x, y = _numeric_x(spec), spec.formula().response
    used = frame.dropna()
    jitter = np.random.default_rng(0).uniform(-0.03, 0.03, len(used))
    ax.scatter(used[x], used[y] + jitter, marker="|", color="grey", alpha=0.5)
    factors = list(spec.factor_levels())
    base = _defaults(spec, frame)
    grid = np.linspace(used[x].min(), used[x].max(), 60)
    factor = factors[-1] if factors else None
    for i, level in enumerate(spec.factor_levels()[factor] if factor else [None]):
        values = {**base, **({factor: level} if factor else {})}
        eta = np.array([_eta(spec, coefs, {**values, x: g}) for g in grid])
        ax.plot(
            grid,
            1 / (1 + np.exp(-eta)),
            linestyle=LINESTYLES[i % len(LINESTYLES)],
            marker=MARKERS[i % len(MARKERS)],
            markevery=[0, -1],
            color=f"C{i}",
            label=f"{factor} {level}" if factor else "fitted",
        )
    ax.set_ylim(-0.08, 1.08)
    ax.set_xlabel(x)
    ax.set_ylabel(f"P({y} = 1)")
    ax.legend(fontsize="small")


#: Plot kind → drawing function. A new kind is one function and one entry here.
PLOTS: dict[str, PlotFunction] = {
    "scatter": _scatter,
    "group_lines": _group_lines,
    "mixed_groups": _mixed_groups,
    "zeros": _zeros,
    "logistic": _logistic,
}


def plot_variant(spec: ProblemSpec, variant: Variant) -> bytes:
    """The spec's plot for this variant as PNG bytes (empty when the spec has no plot)."""
    if spec.plot is None or not variant.data_csv:
        return b""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = _frame(spec, variant)
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=100)
    try:
        PLOTS[spec.plot](ax, spec, frame, _coefs(variant))
        ax.set_title(spec.title, fontsize="medium")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        return buf.getvalue()
    finally:
        plt.close(fig)
