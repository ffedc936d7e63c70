"""Data-generating processes: draw a variant's dataset from its spec, deterministically.

Every random number comes from ``numpy.random.default_rng`` seeded with
``SeedSequence([seed, attempt, stream])``, so the same (problem, version, seed) gives the
same data in any process, and a redraw (``attempt`` + 1, when a draw is ill-posed) is
deterministic too. Values are rounded to the decimals the CSV shows *before* fitting, so
the reference fit and the student's fit of the downloaded CSV see identical numbers.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from problem_bank.families import family
from problem_bank.formula import Formula, parse_formula
from problem_bank.spec import DgpSpec, FactorPredictor, NumericPredictor, ProblemSpec, Range

#: Sub-stream numbers, so adding draws to one stage never shifts another stage's numbers.
STREAM_DATA, STREAM_PARAMS, STREAM_SCENARIO = 0, 1, 2


def rng_for(seed: int, attempt: int, stream: int) -> np.random.Generator:
    """The generator for one stage of one attempt of one seed."""
    return np.random.default_rng(np.random.SeedSequence([seed, attempt, stream]))


@dataclass
class Dataset:
    """A drawn dataset: the frame the models are fitted to, how to write it, and the truth."""

    frame: pd.DataFrame
    decimals: dict[str, int]
    levels: dict[str, list[str]]
    truth: dict[str, float] = field(default_factory=dict)

    def to_csv(self) -> str:
        """CSV text with fixed decimals per column and ``NA`` for missing values.

        Formatting is done here, not by pandas, so the bytes cannot change with a pandas
        version or platform.
        """
        cols = list(self.frame.columns)
        texts = [self._column_text(c) for c in cols]
        lines = [",".join(cols), *(",".join(row) for row in zip(*texts, strict=True))]
        return "\n".join(lines) + "\n"

    def _column_text(self, col: str) -> list[str]:
        values = self.frame[col]
        missing = values.isna().to_numpy()
        if col in self.decimals:
            d = self.decimals[col]
            numbers = values.to_numpy(dtype=float, na_value=np.nan)
            text = np.char.mod(f"%.{d}f", np.where(missing, 0.0, numbers)).astype(object)
            zero = f"{0.0:.{d}f}"
            text[text == "-" + zero] = zero  # R writes 0, never -0
        else:
            text = values.astype(object).to_numpy().copy()
            text = np.array([str(v) for v in text], dtype=object)
        text[missing] = "NA"
        return list(text)


def draw_range(rng: np.random.Generator, r: Range) -> float:
    """A number from a ``Range``: fixed, or uniform on [low, high]."""
    if isinstance(r, tuple):
        return float(rng.uniform(r[0], r[1]))
    return float(r)


def draw_int(rng: np.random.Generator, r: int | tuple[int, int]) -> int:
    if isinstance(r, tuple):
        return int(rng.integers(r[0], r[1] + 1))
    return int(r)


def group_labels(prefix: str, k: int) -> list[str]:
    """A, B, C… (or prefix1, prefix2… when there are more than 26 groups)."""
    if k <= 26 and not prefix:
        return list(string.ascii_uppercase[:k])
    width = len(str(k))
    return [f"{prefix or 'G'}{i + 1:0{width}d}" for i in range(k)]


def _factor_column(rng: np.random.Generator, p: FactorPredictor, n: int) -> np.ndarray:
    """Each level at least once; counts follow the weights (balanced by default)."""
    k = len(p.levels)
    w = np.asarray(p.weights or [1.0] * k, dtype=float)
    counts = np.maximum(1, np.floor(n * w / w.sum()).astype(int))
    while counts.sum() < n:
        counts[int(np.argmax(n * w / w.sum() - counts))] += 1
    while counts.sum() > n:
        counts[int(np.argmax(counts))] -= 1
    values = np.repeat(np.asarray(p.levels, dtype=object), counts)
    return rng.permutation(values)


def _numeric_column(
    rng: np.random.Generator, p: NumericPredictor, n: int, group_index: np.ndarray | None
) -> np.ndarray:
    if p.dist == "sequence":  # drawn from no generator: the other columns keep their draws
        return np.round(p.low + p.step * _position_in_group(n, group_index), p.decimals)
    x = rng.uniform(p.low, p.high, n) if p.dist == "uniform" else rng.normal(p.mean, p.sd, n)
    return np.round(x, p.decimals)


def _position_in_group(n: int, group_index: np.ndarray | None) -> np.ndarray:
    """0, 1, 2, … within each group's run of rows (groups are contiguous), else over all."""
    if group_index is None:
        return np.arange(n, dtype=float)
    starts = np.searchsorted(group_index, group_index, side="left")
    return (np.arange(n) - starts).astype(float)


def design_columns(
    f: Formula, frame: pd.DataFrame, levels: dict[str, list[str]]
) -> dict[str, np.ndarray]:
    """R's model-matrix columns (by coefficient name) for a whole frame."""
    return f.columns({v: frame[v].to_numpy() for v in f.variables}, levels, len(frame))


def draw_dataset(spec: ProblemSpec, seed: int, attempt: int = 0) -> Dataset:
    """Draw the dataset of one attempt. The caller redraws (attempt + 1) if ill-posed."""
    dgp = spec.dgp
    assert dgp is not None, "scenario problems have no data"
    rng = rng_for(seed, attempt, STREAM_DATA)
    f = parse_formula(dgp.formula)
    levels = spec.factor_levels()
    truth: dict[str, float] = {}

    group_index: np.ndarray | None = None
    labels: list[str] = []
    if dgp.groups is not None:
        k = draw_int(rng, dgp.groups.n_groups)
        sizes = [draw_int(rng, dgp.groups.size) for _ in range(k)]
        labels = group_labels(dgp.groups.prefix, k)
        group_index = np.repeat(np.arange(k), sizes)
        n = int(group_index.size)
        truth["n_groups"] = k
    else:
        assert dgp.n is not None
        n = draw_int(rng, dgp.n)

    data: dict[str, Any] = {}
    decimals: dict[str, int] = {}
    for name, p in dgp.predictors.items():
        if isinstance(p, FactorPredictor):
            data[name] = _factor_column(rng, p, n)
        else:
            data[name] = _numeric_column(rng, p, n, group_index)
            decimals[name] = p.decimals
    frame = pd.DataFrame(data)

    beta = {name: draw_range(rng, r) for name, r in dgp.coefficients.items()}
    truth.update({f"beta[{k}]": v for k, v in beta.items()})
    cols = design_columns(f, frame, levels)
    eta = np.zeros(n)
    for name, value in beta.items():
        eta += value * cols[name]

    if dgp.groups is not None and group_index is not None:
        eta += _random_effects(rng, dgp, frame, group_index, len(labels), truth)

    y = _response(rng, dgp, eta, truth)
    out = {f.response: y}
    decimals[f.response] = dgp.response_decimals if _continuous(dgp) else 0
    out.update({k: frame[k].to_numpy() for k in frame.columns})
    if dgp.groups is not None and group_index is not None:
        out[dgp.groups.name] = np.asarray(labels, dtype=object)[group_index]
        levels = {**levels, dgp.groups.name: labels}
    result = pd.DataFrame(out)
    _insert_missing(rng, dgp, result)
    for name, lv in levels.items():
        if name in result.columns:
            result[name] = pd.Categorical(result[name], categories=lv)
    return Dataset(result, decimals, levels, truth)


def _random_effects(
    rng: np.random.Generator,
    dgp: DgpSpec,
    frame: pd.DataFrame,
    group_index: np.ndarray,
    k: int,
    truth: dict[str, float],
) -> np.ndarray:
    """Random intercepts (and slopes), bivariate normal with the drawn SDs and correlation."""
    g = dgp.groups
    assert g is not None
    terms = list(g.sd)
    sds = np.array([draw_range(rng, g.sd[t]) for t in terms])
    cor = draw_range(rng, g.cor)
    cov = np.diag(sds**2)
    if len(terms) == 2:
        cov[0, 1] = cov[1, 0] = cor * sds[0] * sds[1]
    # Standardized draws (mean 0, SD 1 across the groups) keep the realized group spread
    # close to the drawn SD, so a "sd: [0.3, 0.6]" range means what it says.
    z = rng.standard_normal((k, len(terms)))
    z = (z - z.mean(axis=0)) / np.where(z.std(axis=0) > 0, z.std(axis=0), 1.0)
    b = z @ np.linalg.cholesky(cov + 1e-12 * np.eye(len(terms))).T
    for j, t in enumerate(terms):
        truth[f"sd[{t}]"] = float(sds[j])
    contribution = np.zeros(len(group_index))
    for j, t in enumerate(terms):
        x = np.ones(len(group_index)) if t == "(Intercept)" else frame[t].to_numpy(dtype=float)
        contribution += b[group_index, j] * x
    return contribution


class _Parameters:
    """The family's dgp parameters, drawn when the family's drawer asks for them."""

    def __init__(self, rng: np.random.Generator, dgp: DgpSpec, truth: dict[str, float]):
        self.rng, self.dgp, self.truth = rng, dgp, truth

    def given(self, name: str) -> bool:
        return getattr(self.dgp, name) is not None

    def draw(self, name: str, lowest: float | None = None) -> float:
        value = draw_range(self.rng, getattr(self.dgp, name))
        if lowest is not None:
            value = max(lowest, value)
        self.truth[name] = value
        return value


def _response(
    rng: np.random.Generator, dgp: DgpSpec, eta: np.ndarray, truth: dict[str, float]
) -> np.ndarray:
    """Draw y given the linear predictor, as the family draws it."""
    draw = family(dgp.family).draw
    assert draw is not None  # the spec allows only families the generator can draw
    y = draw(rng, eta, _Parameters(rng, dgp, truth))
    return np.round(y, dgp.response_decimals) if _continuous(dgp) else y


def _continuous(dgp: DgpSpec) -> bool:
    return family(dgp.family).response == "continuous"


def _insert_missing(rng: np.random.Generator, dgp: DgpSpec, frame: pd.DataFrame) -> None:
    """Blank out the requested number of values per column (distinct rows across columns)."""
    if not dgp.missing:
        return
    free = np.arange(len(frame))
    for col, count_range in dgp.missing.items():
        count = min(draw_int(rng, count_range), max(0, free.size - 1))
        chosen = rng.choice(free, size=count, replace=False)
        free = np.setdiff1d(free, chosen)
        values = frame[col].to_numpy(dtype=object).copy()
        values[chosen] = None
        if col in dgp.predictors and isinstance(dgp.predictors[col], FactorPredictor):
            frame[col] = values
        else:
            frame[col] = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy()
