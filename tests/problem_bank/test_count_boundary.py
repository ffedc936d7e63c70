"""A negative binomial θ̂ at its boundary (the Poisson limit) is redrawn: R's glmmTMB fit
there can end with a non-positive-definite Hessian and print AIC NA (poisson_zeros seed 6
before this check, θ̂ = 1.7e7 in the ZINB fit)."""

from __future__ import annotations

from problem_bank import builtin_problem
from problem_bank.generate import generate_with_redraws


def test_seed_with_zinb_theta_at_the_boundary_is_redrawn() -> None:
    variant, reasons = generate_with_redraws(builtin_problem("poisson_zeros"), 6)
    assert any("zinb: negative binomial theta at the boundary" in r for r in reasons)
    assert "NA" not in variant.output.split()
