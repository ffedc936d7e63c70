"""``summary(glmmTMB)`` as glmmTMB 1.1 prints it (gaussian family, conditional model)."""

from __future__ import annotations

from problem_bank.fitting import MixedFit
from problem_bank.printers.lm import coef_rows, record_coefs
from problem_bank.printers.rcall import deparse_formula
from problem_bank.printers.rformat import (
    Printed,
    format_c,
    format_num,
    print_coefmat,
    print_matrix,
    print_named,
    r_round,
    record,
)


def _aic_table(fit: MixedFit) -> str:
    """lme4's ``.prt.aictab``: values rounded to 1 decimal, formatted together; df.resid alone."""
    vals = [r_round(v, 1) for v in (fit.aic, fit.bic, fit.loglik, fit.deviance)]
    df_resid = r_round(fit.df_resid, 1)
    texts = format_num([*vals, df_resid])
    texts[-1] = format_num([df_resid])[0]
    return print_named(texts, ["AIC", "BIC", "logLik", "deviance", "df.resid"])


def _varcorr_table(fit: MixedFit, digits: int, printed: Printed | None = None) -> str:
    """glmmTMB's ``formatVC`` with both variances and SDs, correlations to 2 decimals."""
    vc = fit.varcorr()
    sds = [t.sd for t in vc.terms] + [vc.residual_sd]
    variances = format_num([s**2 for s in sds], digits)
    sd_txt = format_num(sds, digits)
    groups = [vc.terms[0].group] + [""] * (len(vc.terms) - 1) + ["Residual"]
    names = [t.name for t in vc.terms] + [""]
    cols = ["Groups", "Name", "Variance", "Std.Dev."]
    rows = [[g, n, v, s] for g, n, v, s in zip(groups, names, variances, sd_txt, strict=True)]
    for t, v, s in zip(vc.terms, variances, sd_txt, strict=False):
        record(printed, f"varcorr:{t.group}:{t.name}:var", v)
        record(printed, f"varcorr:{t.group}:{t.name}:sd", s)
    record(printed, "residual_var", variances[-1])
    record(printed, "residual_sd", sd_txt[-1])
    k = len(vc.terms)
    if k > 1:
        # formatCor: the whole correlation matrix is formatted (so the diagonal 1.00 sets
        # the width), then all but the lower triangle blanked; k columns, the last empty.
        group = vc.terms[0].group
        full = [[1.0] * k for _ in range(k)]
        for i in range(k):
            for j in range(i):
                key = (group, vc.terms[j].name, vc.terms[i].name)
                full[i][j] = full[j][i] = vc.correlations[key]
        flat = format_num([r_round(v, 2) for row in full for v in row], nsmall=2)
        for i, row in enumerate(rows):
            row.extend(flat[i * k + j] if i < k and j < i else "" for j in range(k))
        cols += ["Corr"] + [""] * (k - 1)
    return print_matrix(rows, cols, [""] * len(rows), right=False)


def summary_glmmtmb(fit: MixedFit, data_name: str, printed: Printed | None = None) -> str:
    """``print(summary(glmmTMB(formula, data = <data_name>)))`` (``REML = TRUE`` when the fit
    used REML: glmmTMB prints the same layout with REML log-likelihood and AIC)."""
    digits = 4
    vc = fit.varcorr()
    cells: list[list[str]] = []
    dispersion = format_c(vc.residual_variance, 3)
    record(printed, "residual_var", dispersion)
    out = [
        " Family: gaussian  ( identity )\n",
        f"Formula:          {deparse_formula(fit.formula)}\n",
        f"Data: {data_name}\n",
        "\n",
        _aic_table(fit),
        "\n",
        "Random effects:\n",
        "\nConditional model:\n",
        _varcorr_table(fit, digits, printed),
        f"Number of obs: {fit.nobs}, groups:  {fit.group}, {fit.n_groups}\n",
        f"\nDispersion estimate for gaussian family (sigma^2): {dispersion} \n",
        "\nConditional model:\n",
        print_coefmat(
            coef_rows(fit),
            fit.coef_names(),
            ["Estimate", "Std. Error", "z value", "Pr(>|z|)"],
            digits,
            zap_ind=(2,),
            cells=cells,
        ),
    ]
    record_coefs(printed, fit.coef_names(), cells)
    return "".join(out)
