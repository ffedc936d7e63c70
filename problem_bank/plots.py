"""Plots of a variant's data as the lecture draws them, as PNG bytes, and their text.

matplotlib (Agg) is imported only when a plot is drawn: generating a variant never pays
for it. What a plot shows is computed first, without matplotlib (:func:`fitted_curves`,
:func:`group_styles`), so its statistics are testable without pixels; drawing only puts
that on axes. Fitted lines are on the response scale (the family's inverse link of the
linear predictor), the scale of the points under them.

Groups always differ by marker *and* line style, never by colour alone, and no two groups
of one plot share a style. Legends sit outside the axes so they hide no data. Each kind
also describes itself in words (:func:`plot_text`): the page's ``alt`` and caption.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from problem_bank.families import FAMILIES, ModelFamily, family
from problem_bank.formula import Formula
from problem_bank.variant import Variant

if TYPE_CHECKING:  # the spec validator imports this module; here the spec is only read
    from problem_bank.spec import ProblemSpec

#: Marker → how the text alternative names it.
MARKERS = {
    "o": "circles",
    "s": "squares",
    "^": "triangles",
    "D": "diamonds",
    "v": "down-pointing triangles",
    "P": "plus signs",
    "X": "crosses",
    "*": "stars",
    "<": "left-pointing triangles",
    ">": "right-pointing triangles",
    "h": "hexagons",
    "p": "pentagons",
}
#: Line style (matplotlib's spelling) and how the text names it.
LINESTYLES: tuple[tuple[Any, str], ...] = (
    ("-", "solid"),
    ("--", "dashed"),
    (":", "dotted"),
    ("-.", "dash-dot"),
    ((0, (8, 2)), "long-dashed"),
    ((0, (3, 1, 1, 1, 1, 1)), "dash-dot-dot"),
)
#: Groups one plot can tell apart without colour: distinct (marker, line style) pairs.
MAX_STYLED_GROUPS = len(MARKERS) * len(LINESTYLES)
#: Pixel size of every plot (the pages give it to <img> so nothing jumps while loading).
WIDTH_PX, HEIGHT_PX = 800, 460
_DPI = 100


@dataclass(frozen=True)
class Style:
    """How one group is drawn: colour plus the two cues that do not need colour."""

    colour: str
    marker: str
    linestyle: Any
    linestyle_name: str

    @property
    def words(self) -> str:
        return f"{MARKERS[self.marker]}, {self.linestyle_name} line"


def group_styles(count: int) -> list[Style]:
    """``count`` styles, no two with the same marker and line style (so none with the same
    colour, marker and line style): marker i mod 12, line style shifted every 12 groups."""
    if count > MAX_STYLED_GROUPS:
        raise ValueError(f"at most {MAX_STYLED_GROUPS} groups can be told apart, not {count}")
    markers = list(MARKERS)
    styles = []
    for i in range(count):
        linestyle, name = LINESTYLES[(i % len(LINESTYLES) + i // len(markers)) % len(LINESTYLES)]
        styles.append(Style(f"C{i % 10}", markers[i % len(markers)], linestyle, name))
    return styles


@dataclass(frozen=True)
class Curve:
    """A fitted curve on the response scale, for one level of the plotted factor."""

    label: str
    x: np.ndarray
    y: np.ndarray
    style: Style


# ----------------------------------------------------------------------- what is shown


def _family(spec: ProblemSpec) -> ModelFamily:
    return family(spec.models["main"].family)


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


def _eta(
    formula: Formula, spec: ProblemSpec, coefs: dict[str, float], values: dict[str, Any]
) -> float:
    row = formula.design_row(values, spec.factor_levels())
    return sum(w * coefs.get(name, 0.0) for name, w in row.items())


def numeric_x(spec: ProblemSpec) -> str | None:
    """The x axis: the first numeric predictor of the main model."""
    assert spec.dgp is not None
    for name in spec.formula().variables:
        if getattr(spec.dgp.predictors.get(name), "type", None) == "numeric":
            return name
    return None


def plotted_factor(spec: ProblemSpec) -> str | None:
    """The factor drawn as groups: the main model's factor with the most levels."""
    levels = spec.factor_levels()
    factors = [v for v in spec.formula().variables if v in levels]
    return max(factors, key=lambda f: len(levels[f]), default=None)


def _shown(spec: ProblemSpec) -> set[str]:
    """The predictors a curve plot shows: its x axis and the factor of its curves."""
    return {v for v in (numeric_x(spec), plotted_factor(spec)) if v is not None}


def held_values(spec: ProblemSpec, frame: pd.DataFrame, shown: set[str]) -> dict[str, Any]:
    """Where the model's other predictors are held: reference level, or the mean."""
    levels = spec.factor_levels()
    held: dict[str, Any] = {}
    for name in spec.formula().variables:
        if name in shown:
            continue
        held[name] = levels[name][0] if name in levels else float(frame[name].mean())
    return held


def held_text(spec: ProblemSpec, held: dict[str, Any]) -> str:
    """ "Year held at its reference level 1999": what a curve assumes about the rest."""
    levels = spec.factor_levels()
    return "; ".join(
        f"{name} held at its reference level {value}"
        if name in levels
        else f"{name} held at its mean, {value:.3g}"
        for name, value in held.items()
    )


def fitted_curves(
    spec: ProblemSpec, frame: pd.DataFrame, coefs: dict[str, float], points: int = 60
) -> list[Curve]:
    """The main model's fitted mean against x, one curve per level of the plotted factor,
    the other predictors held (:func:`held_values`), on the response scale."""
    x, factor = numeric_x(spec), plotted_factor(spec)
    assert x is not None
    formula, linkinv = spec.formula(), _family(spec).linkinv
    used = frame.dropna(subset=[x])
    base = held_values(spec, frame, _shown(spec))
    levels: list[str | None] = list(spec.factor_levels()[factor]) if factor else [None]
    curves = []
    for level, style in zip(levels, group_styles(len(levels)), strict=True):
        sub = used if level is None else used[used[factor] == level]
        if sub.empty:
            sub = used
        grid = np.linspace(float(sub[x].min()), float(sub[x].max()), points)
        values = base if level is None or factor is None else {**base, factor: level}
        eta = np.array([_eta(formula, spec, coefs, {**values, x: g}) for g in grid])
        curves.append(Curve("fitted" if level is None else str(level), grid, linkinv(eta), style))
    return curves


def expected_counts(
    spec: ProblemSpec, frame: pd.DataFrame, coefs: dict[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(counts 0…top, observed frequency, Poisson-expected frequency) for a count model."""
    from scipy.stats import poisson

    y, formula = spec.formula().response, spec.formula()
    used = frame.dropna(subset=[*formula.variables, y])
    eta = np.array([_eta(formula, spec, coefs, row) for row in used.to_dict("records")])
    mu = _family(spec).linkinv(eta)
    counts = used[y].astype(int).to_numpy()
    ks = np.arange(int(min(counts.max(), 20)) + 1)
    observed = np.array([(counts == k).sum() for k in ks])
    expected = np.array([poisson.pmf(k, mu).sum() for k in ks])
    return ks, observed, expected


def _groups(spec: ProblemSpec, frame: pd.DataFrame) -> tuple[str, list[str]]:
    assert spec.dgp is not None and spec.dgp.groups is not None
    group = spec.dgp.groups.name
    return group, list(dict.fromkeys(frame[group].astype(str)))


def _cue_list(labels: list[str], styles: list[Style], lines: bool = True) -> str:
    cue = (lambda s: s.words) if lines else (lambda s: MARKERS[s.marker])
    return "; ".join(f"{label}: {cue(style)}" for label, style in zip(labels, styles, strict=True))


# ---------------------------------------------------------------------------- drawing


def _legend_outside(ax: Any, title: str | None, entries: int) -> None:
    ax.legend(
        title=title,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
        fontsize="small",
        ncol=2 if entries > 14 else 1,
    )


def _draw_curves(ax: Any, curves: list[Curve], frame: pd.DataFrame, spec: ProblemSpec) -> None:
    x, y, factor = numeric_x(spec), spec.formula().response, plotted_factor(spec)
    for curve in curves:
        sub = frame if factor is None else frame[frame[factor] == curve.label]
        s = curve.style
        ax.scatter(sub[x], sub[y], marker=s.marker, color=s.colour, alpha=0.55)
        ax.plot(curve.x, curve.y, color=s.colour, linestyle=s.linestyle, lw=2,
                marker=s.marker, markevery=[0, -1], label=curve.label)  # fmt: skip
    if factor is not None:
        _legend_outside(ax, factor, len(curves))
    ax.set_xlabel(x)
    ax.set_ylabel(y)


def _draw_scatter(ax: Any, spec: ProblemSpec, frame: pd.DataFrame, coefs: dict[str, float]) -> None:
    """Points and the fitted mean (per level of the model's factor, if it has one)."""
    _draw_curves(ax, fitted_curves(spec, frame, coefs), frame, spec)


def _draw_mixed_groups(
    ax: Any, spec: ProblemSpec, frame: pd.DataFrame, coefs: dict[str, float]
) -> None:
    """Points by group with each group's own least-squares line; the fixed-effect line bold."""
    x, y = numeric_x(spec), spec.formula().response
    assert x is not None
    group, groups = _groups(spec, frame)
    styles = _mixed_styles(len(groups))
    for level, s in zip(groups, styles, strict=True):
        sub = frame[frame[group].astype(str) == level].dropna(subset=[x, y])
        ax.scatter(sub[x], sub[y], alpha=0.6, color=s.colour, marker=s.marker)
        if sub[x].nunique() > 1:
            slope, intercept = np.polyfit(sub[x], sub[y], 1)
            grid = np.array([sub[x].min(), sub[x].max()])
            ax.plot(grid, intercept + slope * grid, color=s.colour, marker=s.marker,
                    linestyle=s.linestyle, label=level if s is not _ALIKE else "_")  # fmt: skip
    base = held_values(spec, frame, {x})
    grid = np.linspace(frame[x].min(), frame[x].max(), 20)
    formula = spec.formula()
    fixed = [_eta(formula, spec, coefs, {**base, x: g}) for g in grid]
    ax.plot(grid, fixed, color="black", lw=3.5, label="fixed effects")
    _legend_outside(ax, group if styles[0] is not _ALIKE else None, len(groups) + 1)
    ax.set_xlabel(x)
    ax.set_ylabel(y)


#: Past :data:`MAX_STYLED_GROUPS` no legend can tell the groups apart: all drawn alike.
_ALIKE = Style("0.55", "o", "-", "solid")


def _mixed_styles(count: int) -> list[Style]:
    return group_styles(count) if count <= MAX_STYLED_GROUPS else [_ALIKE] * count


def _draw_zeros(ax: Any, spec: ProblemSpec, frame: pd.DataFrame, coefs: dict[str, float]) -> None:
    """Observed vs Poisson-expected frequency of each count (hatched = expected)."""
    ks, observed, expected = expected_counts(spec, frame, coefs)
    ax.bar(ks - 0.2, observed, width=0.4, color="C0", edgecolor="black", label="observed")
    ax.bar(ks + 0.2, expected, width=0.4, color="white", edgecolor="black", hatch="//",
           label="expected (Poisson)")  # fmt: skip
    ax.set_xlabel(spec.formula().response)
    ax.set_ylabel("number of observations")
    _legend_outside(ax, None, 2)


def _draw_logistic(
    ax: Any, spec: ProblemSpec, frame: pd.DataFrame, coefs: dict[str, float]
) -> None:
    """0/1 outcomes (jittered) and the fitted probability curve for each level of a factor."""
    x, y = numeric_x(spec), spec.formula().response
    used = frame.dropna(subset=[x, y])
    jitter = np.random.default_rng(0).uniform(-0.03, 0.03, len(used))
    ax.scatter(used[x], used[y] + jitter, marker="|", color="grey", alpha=0.5)
    curves = fitted_curves(spec, frame, coefs)
    for c in curves:
        ax.plot(c.x, c.y, linestyle=c.style.linestyle, marker=c.style.marker, markevery=[0, -1],
                color=c.style.colour, lw=2, label=c.label)  # fmt: skip
    ax.set_ylim(-0.08, 1.08)
    ax.set_xlabel(x)
    ax.set_ylabel(f"P({y} = 1)")
    if plotted_factor(spec):
        _legend_outside(ax, plotted_factor(spec), len(curves))


# ---------------------------------------------------------------------------- in words


def _n(frame: pd.DataFrame, spec: ProblemSpec, columns: list[str]) -> int:
    return len(frame.dropna(subset=columns))


def _held_clause(spec: ProblemSpec, frame: pd.DataFrame, shown: set[str]) -> str:
    held = held_text(spec, held_values(spec, frame, shown))
    return f" ({held})" if held else ""


def _describe_scatter(spec: ProblemSpec, frame: pd.DataFrame, coefs: dict[str, float]) -> str:
    x, y, factor = numeric_x(spec), spec.formula().response, plotted_factor(spec)
    assert x is not None
    n = _n(frame, spec, [x, y])
    what = _family(spec).curve
    held = _held_clause(spec, frame, _shown(spec))
    if factor is None:
        return (
            f"Scatter plot of {y} against {x} for {n} observations (circles), "
            f"with the {what}{held}."
        )
    levels = spec.factor_levels()[factor]
    styles = group_styles(len(levels))
    return (
        f"Scatter plot of {y} against {x} for {n} observations, points marked by {factor} "
        f"({_cue_list(levels, styles, lines=False)}), with the {what} for each {factor}, "
        f"drawn in that level's marker and line style ({_cue_list(levels, styles)}){held}."
    )


def _describe_logistic(spec: ProblemSpec, frame: pd.DataFrame, coefs: dict[str, float]) -> str:
    x, y, factor = numeric_x(spec), spec.formula().response, plotted_factor(spec)
    assert x is not None
    n = _n(frame, spec, [x, y])
    start = (
        f"{y} (0 or 1, as jittered grey ticks) against {x} for {n} observations, with the "
        f"fitted probability that {y} = 1"
    )
    held = _held_clause(spec, frame, _shown(spec))
    if factor is None:
        return f"{start} as a solid line{held}."
    levels = spec.factor_levels()[factor]
    return f"{start} for each {factor} ({_cue_list(levels, group_styles(len(levels)))}){held}."


def _describe_zeros(spec: ProblemSpec, frame: pd.DataFrame, coefs: dict[str, float]) -> str:
    y = spec.formula().response
    ks, observed, expected = expected_counts(spec, frame, coefs)
    return (
        f"Bar chart of the number of observations with each count of {y} from 0 to "
        f"{ks[-1]}: observed (filled bars, left) next to expected under the fitted Poisson "
        f"model (white hatched bars, right). Zeros: {observed[0]} observed, "
        f"{expected[0]:.1f} expected."
    )


def _describe_mixed_groups(spec: ProblemSpec, frame: pd.DataFrame, coefs: dict[str, float]) -> str:
    x, y = numeric_x(spec), spec.formula().response
    assert x is not None
    group, groups = _groups(spec, frame)
    start = (
        f"Scatter plot of {y} against {x} for {_n(frame, spec, [x, y])} observations from "
        f"{len(groups)} levels of {group}"
    )
    end = f"the thick solid black line is the fixed-effect line{_held_clause(spec, frame, {x})}."
    if len(groups) > MAX_STYLED_GROUPS:
        return (
            f"{start}, too many to tell apart: every {group}'s points and least-squares line "
            f"in grey circles and solid lines; {end}"
        )
    return (
        f"{start}, each {group} in its own marker and line style with its own least-squares "
        f"line ({_cue_list(groups, group_styles(len(groups)))}); {end}"
    )


# --------------------------------------------------------------------------- fit check


def _needs_x(spec: ProblemSpec) -> Iterator[str]:
    if numeric_x(spec) is None:
        yield "needs a numeric predictor in the main model to put on the x axis"


def _scatter_problems(spec: ProblemSpec) -> Iterator[str]:
    yield from _needs_x(spec)


def _group_lines_problems(spec: ProblemSpec) -> Iterator[str]:
    yield from _needs_x(spec)
    if plotted_factor(spec) is None:
        yield "needs a factor in the main model: it draws one line per level"


def _mixed_groups_problems(spec: ProblemSpec) -> Iterator[str]:
    yield from _needs_x(spec)
    assert spec.dgp is not None
    if not spec.formula().random or spec.dgp.groups is None:
        yield "needs a mixed model: a main model with random effects and dgp groups"


def _zeros_problems(spec: ProblemSpec) -> Iterator[str]:
    yield from ()  # the family is all it needs


def _logistic_problems(spec: ProblemSpec) -> Iterator[str]:
    yield from _needs_x(spec)


def _family_problems(spec: ProblemSpec, kind: str) -> Iterator[str]:
    """The plot kind is one the main model's family draws (the family registry says)."""
    mixed = bool(spec.formula().random)
    if kind in _family(spec).plots_for(mixed):
        return
    fitting = [n for n, f in FAMILIES.items() if kind in f.plots_for(mixed)]
    shape = "with" if mixed else "without"
    own = sorted(_family(spec).plots_for(mixed))
    instead = (
        f"; for this model write {' or '.join(f'plot: {p}' for p in own)}, or leave plot out"
        if own
        else "; leave plot out"
    )
    if fitting:
        names = " or ".join(f"family: {n}" for n in fitting)
        yield (
            f"{PLOTS[kind].draws}: the main model must be {names}, not {_family(spec).name}"
            f" ({shape} random effects){instead}"
        )
    else:
        yield f"{PLOTS[kind].draws}: not for a model {shape} random effects{instead}"


PlotFunction = Callable[[Any, "ProblemSpec", pd.DataFrame, dict[str, float]], None]
TextFunction = Callable[["ProblemSpec", pd.DataFrame, dict[str, float]], str]


@dataclass(frozen=True)
class PlotKind:
    """A plot kind: how it is drawn, how it is told in words, and what spec it fits.

    Which families it fits is the family registry's word (``ModelFamily.plots``);
    ``problems`` checks the rest (an x axis, a factor, random effects).
    """

    draw: PlotFunction
    describe: TextFunction
    problems: Callable[[ProblemSpec], Iterator[str]]
    #: What it draws, for messages: "logistic draws fitted probabilities …".
    draws: str


#: Plot kind → its parts. A new kind is three functions and one entry here, and the
#: families it fits say so in problem_bank.families.
PLOTS: dict[str, PlotKind] = {
    "scatter": PlotKind(
        _draw_scatter,
        _describe_scatter,
        _scatter_problems,
        "draws the response against a numeric predictor with the fitted mean curve",
    ),
    "group_lines": PlotKind(
        _draw_scatter,
        _describe_scatter,
        _group_lines_problems,
        "draws the fitted mean curve of each factor level",
    ),
    "mixed_groups": PlotKind(
        _draw_mixed_groups,
        _describe_mixed_groups,
        _mixed_groups_problems,
        "draws least-squares lines per group",
    ),
    "zeros": PlotKind(
        _draw_zeros,
        _describe_zeros,
        _zeros_problems,
        "compares observed with Poisson-expected counts",
    ),
    "logistic": PlotKind(
        _draw_logistic,
        _describe_logistic,
        _logistic_problems,
        "draws fitted probabilities of a 0/1 response",
    ),
}


def plot_problems(spec: ProblemSpec) -> Iterator[str]:
    """Why the spec's plot cannot show this problem's data (nothing when it can). The
    spec's models and formulas must already be valid."""
    if spec.plot is None:
        return
    if spec.plot not in PLOTS:
        yield f"unknown plot kind {spec.plot!r}; known: {', '.join(PLOTS)}"
        return
    if spec.dgp is None:
        yield f"{spec.plot} plots data: this problem has no dgp"
        return
    reasons = list(PLOTS[spec.plot].problems(spec)) or list(_family_problems(spec, spec.plot))
    for reason in reasons:
        yield f"{spec.plot} {reason}"


def _title(spec: ProblemSpec, frame: pd.DataFrame) -> str:
    """The spec's title, and on a second line what the curves hold fixed."""
    x = numeric_x(spec)
    if spec.plot == "zeros" or x is None:
        return spec.title
    shown = {x} if spec.plot == "mixed_groups" else _shown(spec)
    held = held_text(spec, held_values(spec, frame, shown))
    return f"{spec.title}\nCurves with {held}" if held else spec.title


def plot_text(spec: ProblemSpec, variant: Variant) -> str:
    """What the plot shows, in words (empty when there is no plot)."""
    if spec.plot is None or not variant.data_csv:
        return ""
    return PLOTS[spec.plot].describe(spec, _frame(spec, variant), _coefs(variant))


def figure(spec: ProblemSpec, variant: Variant) -> Any:
    """The drawn matplotlib figure (close it after use); :func:`plot_variant` saves it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = _frame(spec, variant)
    fig, ax = plt.subplots(
        figsize=(WIDTH_PX / _DPI, HEIGHT_PX / _DPI), dpi=_DPI, layout="constrained"
    )
    try:
        PLOTS[spec.plot].draw(ax, spec, frame, _coefs(variant))  # type: ignore[index]
        ax.set_title(_title(spec, frame), fontsize="medium")
    except BaseException:
        plt.close(fig)
        raise
    return fig


def plot_variant(spec: ProblemSpec, variant: Variant) -> bytes:
    """The spec's plot for this variant as PNG bytes (empty when the spec has no plot)."""
    if spec.plot is None or not variant.data_csv:
        return b""
    import matplotlib.pyplot as plt

    fig = figure(spec, variant)
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        return buf.getvalue()
    finally:
        plt.close(fig)
