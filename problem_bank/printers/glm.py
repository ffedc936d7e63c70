"""``summary(glm)`` as current R (>= 4.3) prints it.

R 4.3.0 stopped showing the "Deviance Residuals" block: ``print.summary.glm`` gained
``show.residuals = FALSE``. The lecture's output has no such block, so that is the default;
``deviance_residuals=True`` gives R <= 4.2's layout (equal to ``show.residuals = TRUE``).
Nothing else in this printout differs between R 4.2.2's and R-devel's print.summary.glm.
"""

from __future__ import annotations

from problem_bank.families import glm_family_arg
from problem_bank.fitting import GlmFit
from problem_bank.printers.lm import coef_rows, deleted_note, record_coefs, residual_quantiles
from problem_bank.printers.rcall import deparse_call, deparse_formula
from problem_bank.printers.rformat import Printed, format_num, print_coefmat


def summary_glm(
    fit: GlmFit,
    data_name: str,
    family_arg: str | None = None,
    deviance_residuals: bool = False,
    printed: Printed | None = None,
) -> str:
    """``print(summary(glm(formula, family = ..., data = <data_name>)))``.

    ``family_arg`` is the family as typed in the call (default ``binomial(link = "logit")``);
    ``deviance_residuals`` is R's ``show.residuals`` (R <= 4.2 always showed them).
    """
    digits = 4
    dist, link = fit.distribution, fit.link
    fam = family_arg or glm_family_arg(dist, link)
    call = deparse_call(
        "glm",
        [("formula", deparse_formula(fit.formula)), ("family", fam), ("data", data_name)],
    )
    out = ["\nCall:\n", call, "\n"]
    if deviance_residuals:
        out.append("\nDeviance Residuals: \n")
        out.append(residual_quantiles(fit.deviance_residuals, digits, gap=2))
    out.append("\nCoefficients:\n")
    cells: list[list[str]] = []
    out.append(
        print_coefmat(
            coef_rows(fit),
            fit.coef_names(),
            ["Estimate", "Std. Error", "z value", "Pr(>|z|)"],
            digits,
            cells=cells,
        )
    )
    record_coefs(printed, fit.coef_names(), cells)
    dev = format_num([fit.null_deviance, fit.deviance], max(5, digits + 1))
    dfs = format_num([fit.df_null, fit.df_resid])
    out.append(f"\n(Dispersion parameter for {dist} family taken to be 1)\n\n")
    out.append(f"    Null deviance: {dev[0]}  on {dfs[0]}  degrees of freedom\n")
    out.append(f"Residual deviance: {dev[1]}  on {dfs[1]}  degrees of freedom\n")
    out.append(deleted_note(fit))
    aic = format_num([fit.aic], max(4, digits + 1))[0]
    out.append(f"AIC: {aic}\n\nNumber of Fisher Scoring iterations: {fit.iterations}\n\n")
    return "".join(out)
