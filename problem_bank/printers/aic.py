"""``AIC(fit_a, fit_b, ...)``: R's data.frame of df and AIC, one row per model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from problem_bank.fitting import Fitted
from problem_bank.printers.rformat import OTHER_MODEL, Printed, format_num, print_matrix, record


def model_df(fit: Fitted) -> int:
    """Number of estimated parameters (``attr(logLik(fit), "df")``)."""
    return int(getattr(fit, "df", len(fit.params)))


def aic_table(fits: Sequence[tuple[str, str, Any]], printed: Printed | None = None) -> str:
    """Printed ``AIC(...)`` of several models: ``print.data.frame`` of ``df`` and ``AIC``.

    Row names are the R variables (left-aligned), the df column an integer, the AIC column
    ``format(digits = 7)`` with one common number of decimals. Each AIC is recorded under
    its model as ``aic``. ``fits`` holds (R variable, spec model name, fit) triples; each
    fit (a GLM or a count model, which share no base) has ``aic``.
    """
    aics = format_num([float(f.aic) for _, _, f in fits], 7)
    dfs = [str(model_df(f)) for _, _, f in fits]
    for (_, model, _), text in zip(fits, aics, strict=True):
        record(printed, f"{OTHER_MODEL}{model}:aic", text)
    cells = [[d, a] for d, a in zip(dfs, aics, strict=True)]
    return print_matrix(cells, ["df", "AIC"], [var for var, _, _ in fits])
