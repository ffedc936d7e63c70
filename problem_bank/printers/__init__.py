"""R-style printed output: pure functions ``Fitted -> str``, one per R function printed.

Each returns exactly the text R 4.2 prints (``options(useFancyQuotes = FALSE)``, width 80,
digits 7), so a student sees the output they would get running the R snippet.
"""

from problem_bank.printers.aic import aic_table
from problem_bank.printers.emmeans import emmeans_pairs
from problem_bank.printers.glm import summary_glm
from problem_bank.printers.glmmtmb import summary_glmmtmb
from problem_bank.printers.lm import anova_lm, summary_lm
from problem_bank.printers.performance import check_overdispersion, check_zeroinflation

__all__ = [
    "aic_table",
    "anova_lm",
    "check_overdispersion",
    "check_zeroinflation",
    "emmeans_pairs",
    "summary_glm",
    "summary_glmmtmb",
    "summary_lm",
]
