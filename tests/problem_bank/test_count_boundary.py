"""A negative binomial θ̂ at its boundary (the Poisson limit) is redrawn: R's glmmTMB fit
there can end with a non-positive-definite Hessian and print AIC NA (poisson_zeros seed 6
before this check, θ̂ = 1.7e7 in the ZINB fit)."""

from __future__ import annotations

from typing import Any

from problem_bank import builtin_problem
from problem_bank.generate import generate_with_redraws


def test_seed_with_zinb_theta_at_the_boundary_is_redrawn() -> None:
    variant, reasons = generate_with_redraws(builtin_problem("poisson_zeros"), 6)
    assert any("zinb: negative binomial theta at the boundary" in r for r in reasons)
    assert "NA" not in variant.output.split()


def test_convergence_does_not_depend_on_the_units_of_a_covariate() -> None:
    """At R's optimum of poisson_zeros seed 3 (first draw) the score on Mass (measured in
    tens of grams) is 2e-4 while a Newton step would gain 2e-13: converged, as glmmTMB
    says. Here: a gradient of 2e-4 along a steep direction, where a Newton step gains
    5e-11, is a maximum; a point 0.1 away is not."""
    import numpy as np

    from problem_bank.fitting import count

    scale = np.array([1.0, 400.0])

    def ll(par: np.ndarray) -> Any:  # concave, steep in one direction; complex steps pass
        return -0.5 * np.sum(scale * (par - 1.0) ** 2)

    at_top = np.array([1.0, 1.0 + 5e-7])  # gradient 2e-4 on the steep direction
    assert count._at_maximum(ll, at_top)
    assert not count._at_maximum(ll, np.array([1.1, 1.0]))
