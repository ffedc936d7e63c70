"""An authored problem with an interval part: the simple regression plus a 95 % CI."""

from __future__ import annotations

from importlib import resources

SIMPLE = (resources.files("problem_bank") / "specs" / "01_simple_regression.yaml").read_text(
    encoding="utf-8"
)

#: confint.lm's interval, coef ± qt(0.975, df)·se, and two wrong intervals students build.
INTERVAL_PART = """\
  - id: slope_ci
    kind: interval
    prompt: Give a 95% confidence interval for the slope of Foodavailability.
    answer:
      - coef("Foodavailability") - qt(0.975, df_resid()) * se("Foodavailability")
      - coef("Foodavailability") + qt(0.975, df_resid()) * se("Foodavailability")
    digits: 3
    partial_credit: true
    hint: estimate ± t quantile × SE, with the residual degrees of freedom.
    solution: The interval is {answer}.
    misconceptions:
      - id: normal_quantile
        expression:
          - coef("Foodavailability") - 1.96 * se("Foodavailability")
          - coef("Foodavailability") + 1.96 * se("Foodavailability")
        message: 1.96 is the normal quantile; with an estimated sigma use t with the residual df.
      - id: one_se
        expression:
          - coef("Foodavailability") - se("Foodavailability")
          - coef("Foodavailability") + se("Foodavailability")
        message: Plus or minus one SE covers about 68%, not 95%; multiply the SE by the t quantile.
"""

#: The simple regression with the interval part appended, as an instructor would author it.
INTERVAL_SPEC = (
    SIMPLE.replace("id: simple_regression", "id: slope_interval", 1).rstrip("\n")
    + "\n"
    + INTERVAL_PART
)
