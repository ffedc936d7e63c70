"""The printed R output of a variant: the spec's ``output`` list through the R-style printers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from problem_bank.spec import OutputSpec, ProblemSpec

#: printer name -> how to call it for one output block (fitted, block, data name).
PrinterCall = Callable[[Any, OutputSpec, str], str]


def _printers() -> dict[str, PrinterCall]:
    from problem_bank import printers as p

    return {
        "summary_lm": lambda f, o, d: p.summary_lm(f, d),
        "anova_lm": lambda f, o, d: p.anova_lm(f),
        "emmeans_pairs": lambda f, o, d: p.emmeans_pairs(f, str(o.factor)),
        "summary_glm": lambda f, o, d: p.summary_glm(f, d),
        "summary_glmmtmb": lambda f, o, d: p.summary_glmmtmb(f, d),
        "check_overdispersion": lambda f, o, d: p.check_overdispersion(f),
        "check_zeroinflation": lambda f, o, d: p.check_zeroinflation(f),
    }


def render_output(spec: ProblemSpec, fitted: Mapping[str, Any], data_name: str) -> str:
    """All output blocks, separated by a blank line, as the R script prints them."""
    printers = _printers()
    blocks = []
    for block in spec.output:
        text = printers[block.printer](fitted[block.model], block, data_name)
        blocks.append(text.rstrip("\n"))
    return "\n\n".join(blocks) + ("\n" if blocks else "")
