"""``summary(lm)`` and ``anova(lm)`` as R 4.2 prints them (digits = 7 option)."""

from __future__ import annotations

import numpy as np

from problem_bank.fitting import Fitted, OlsFit
from problem_bank.printers.rcall import deparse_call, deparse_formula
from problem_bank.printers.rformat import (
    Printed,
    format1,
    format_c,
    format_num,
    format_pval,
    print_coefmat,
    print_named,
    record,
    signif,
    zapsmall,
)

_QUANTILE_NAMES = ["Min", "1Q", "Median", "3Q", "Max"]


def residual_quantiles(resid: np.ndarray, digits: int, gap: int) -> str:
    """The five-number summary of residuals as ``print(zapsmall(quantile(r), digits + 1))``."""
    q = np.quantile(resid, [0, 0.25, 0.5, 0.75, 1.0])  # R's default type 7
    zz = zapsmall([float(v) for v in q], digits + 1)
    return print_named(format_num(zz, digits), _QUANTILE_NAMES, gap=gap)


def deleted_note(fit: Fitted) -> str:
    """R's ``naprint`` line for rows dropped by na.omit, or nothing."""
    if not fit.n_deleted:
        return ""
    plural = "s" if fit.n_deleted > 1 else ""
    return f"  ({fit.n_deleted} observation{plural} deleted due to missingness)\n"


def coef_rows(fit: Fitted) -> list[list[float | None]]:
    """Estimate, SE, statistic and p-value per coefficient, in R's order."""
    return [[fit.coef(n), fit.se(n), fit.stat(n), fit.pvalue(n)] for n in fit.coef_names()]


def record_coefs(printed: Printed | None, names: list[str], cells: list[list[str]]) -> None:
    """The printed coefficient table's cells under the leaf keys ``coef:``/``se:``/..."""
    for name, row in zip(names, cells, strict=True):
        for what, text in zip(("coef", "se", "tvalue", "pvalue"), row, strict=False):
            record(printed, f"{what}:{name}", text)


def summary_lm(fit: OlsFit, data_name: str, printed: Printed | None = None) -> str:
    """``print(summary(lm(formula, data = <data_name>)))``; ``printed`` receives what each
    coefficient cell shows."""
    digits = 4
    call = deparse_call("lm", [("formula", deparse_formula(fit.formula)), ("data", data_name)])
    out = ["\nCall:\n", call, "\n\n", "Residuals:\n"]
    resid = np.asarray(fit.residuals)
    rdf = int(fit.df_resid)
    if rdf > 5:
        out.append(residual_quantiles(resid, digits, gap=1))
    else:
        names = [str(i + 1) for i in range(len(resid))]
        out.append(print_named(format_num(list(resid), digits), names, gap=1))
    stat = "t"
    out.append("\nCoefficients:\n")
    cells: list[list[str]] = []
    out.append(
        print_coefmat(
            coef_rows(fit),
            fit.coef_names(),
            ["Estimate", "Std. Error", f"{stat} value", f"Pr(>|{stat}|)"],
            digits,
            cells=cells,
        )
    )
    record_coefs(printed, fit.coef_names(), cells)
    sigma = fit.sigma
    out.append(
        f"\nResidual standard error: {format1(signif(sigma, digits))} on {rdf} degrees of freedom\n"
    )
    out.append(deleted_note(fit))
    fval, numdf, dendf = fit.fstatistic
    pval = format_pval([fit.f_pvalue], digits)[0]
    out.append(
        f"Multiple R-squared:  {format_c(fit.r_squared, digits)},"
        f"\tAdjusted R-squared:  {format_c(fit.adj_r_squared, digits)} "
        f"\nF-statistic: {format_c(fval, digits)} on {format1(numdf)} and {format1(dendf)} DF,"
        f"  p-value: {pval}\n"
    )
    out.append("\n")
    return "".join(out)


def anova_lm(fit: Fitted, printed: Printed | None = None) -> str:
    """``print(anova(lm(...)))``: sequential sums of squares (``printCoefmat`` with digits 5)."""
    rows = fit.anova()
    cells: list[list[str]] = []
    table = print_coefmat(
        [[r.df, r.sum_sq, r.mean_sq, r.f_value, r.p_value] for r in rows],
        [r.term for r in rows],
        ["Df", "Sum Sq", "Mean Sq", "F value", "Pr(>F)"],
        digits=5,
        cs_ind=(),
        tst_ind=(3,),
        zap_ind=(1, 2),
        na_print="",
        cells=cells,
    )
    for r, row in zip(rows, cells, strict=True):
        for what, j in (("df", 0), ("F", 3), ("p", 4)):
            if row[j]:
                record(printed, f"anova:{r.term}:{what}", row[j])
    return f"Analysis of Variance Table\n\nResponse: {fit.spec.response}\n" + table
