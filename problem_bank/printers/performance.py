"""``performance`` 0.10 check printouts, with the verdict R shows as a message after them."""

from __future__ import annotations

from problem_bank.fitting import Fitted
from problem_bank.printers.rformat import Printed, r_round, record


def check_overdispersion(fit: Fitted, printed: Printed | None = None) -> str:
    """Printed result of ``performance::check_overdispersion(model)``.

    Ratio and χ² to 3 decimals, p rounded to 3 (``< 0.001`` below), right-aligned
    together; "Overdispersion detected." when p <= 0.05.
    """
    d = fit.dispersion()
    ratio = f"{d.ratio:.3f}"
    chisq = f"{d.chisq:.3f}"
    p = r_round(d.p_value, 3)
    p_txt = p_value_text(d.p_value)
    w = max(len(ratio), len(chisq), len(p_txt))
    verdict = "No overdispersion detected." if p > 0.05 else "Overdispersion detected."
    record(printed, "dispersion_ratio", ratio)
    record(printed, "dispersion_p", p_txt)
    return (
        "# Overdispersion test\n\n"
        f"       dispersion ratio = {ratio.rjust(w)}\n"
        f"  Pearson's Chi-Squared = {chisq.rjust(w)}\n"
        f"                p-value = {p_txt.rjust(w)}\n\n"
        f"{verdict}\n"
    )


def p_value_text(p: float) -> str:
    """performance's p-value: rounded to 3 decimals, ``< 0.001`` below (also quoted in
    explanations, so they say what the output says)."""
    rounded = r_round(p, 3)
    return "< 0.001" if rounded < 0.001 else _r_num(rounded)


def _r_num(x: float) -> str:
    """``as.character`` of a number with at most 3 decimals (0.5 -> "0.5", 1 -> "1")."""
    s = f"{x:.3f}".rstrip("0").rstrip(".")
    return s or "0"


def check_zeroinflation(fit: Fitted, printed: Printed | None = None) -> str:
    """Printed result of ``performance::check_zeroinflation(model)`` (tolerance 0.05)."""
    z = fit.zero_inflation()
    if z.ratio < 1 - z.tolerance:
        verdict = "Model is underfitting zeros (probable zero-inflation)."
    elif z.ratio > 1 + z.tolerance:
        verdict = "Model is overfitting zeros."
    else:
        verdict = (
            "Model seems ok, ratio of observed and predicted zeros is within the\n"
            "  tolerance range."
        )
    ratio = f"{z.ratio:.2f}"
    record(printed, "observed_zeros", str(z.observed))
    record(printed, "predicted_zeros", str(z.predicted))
    record(printed, "zero_ratio", ratio)
    return (
        "# Check for zero-inflation\n\n"
        f"   Observed zeros: {z.observed}\n"
        f"  Predicted zeros: {z.predicted}\n"
        f"            Ratio: {ratio}\n\n"
        f"{verdict}\n"
    )
