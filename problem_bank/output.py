"""The printed R output of a variant: the spec's ``output`` list through the R-style printers.

Printing also says what each printed quantity showed (``Printed``), keyed as the expression
leaves are (``main:coef:Length``), so acceptance follows the precision R printed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from problem_bank.printers.rformat import OTHER_MODEL, Printed
from problem_bank.scripts import r_var
from problem_bank.spec import OutputSpec, ProblemSpec

#: printer name -> how to call it for one output block (the block's fitted model, the block,
#: data name, printed, every fitted model by name).
PrinterCall = Callable[[Any, OutputSpec, str, Printed, Mapping[str, Any]], str]


def _printers() -> dict[str, PrinterCall]:
    from problem_bank import printers as p

    return {
        "summary_lm": lambda f, o, d, s, _: p.summary_lm(f, d, s),
        "anova_lm": lambda f, o, d, s, _: p.anova_lm(f, s),
        "emmeans_pairs": lambda f, o, d, s, _: p.emmeans_pairs(f, str(o.factor), s),
        "summary_glm": lambda f, o, d, s, _: p.summary_glm(f, d, printed=s),
        "summary_glmmtmb": lambda f, o, d, s, _: p.summary_glmmtmb(f, d, s),
        "check_overdispersion": lambda f, o, d, s, _: p.check_overdispersion(f, s),
        "check_zeroinflation": lambda f, o, d, s, _: p.check_zeroinflation(f, s),
        "aic_table": lambda f, o, d, s, fits: p.aic_table(
            [(r_var(m), m, fits[m]) for m in o.models], s
        ),
    }


def render_output(
    spec: ProblemSpec,
    fitted: Mapping[str, Any],
    data_name: str,
    printed: Printed | None = None,
) -> str:
    """All output blocks, separated by a blank line, as the R script prints them.

    ``printed``, when given, receives what each block showed of each quantity, under the
    leaf key with its model (``main:contrast:Dose:a:b:p`` -> ``("0.0003",)``).
    """
    printers = _printers()
    blocks = []
    for block in spec.output:
        shown: Printed = {}
        text = printers[block.printer](fitted[block.model], block, data_name, shown, fitted)
        blocks.append(text.rstrip("\n"))
        if printed is not None:
            for key, texts in shown.items():
                own = key.startswith(OTHER_MODEL)
                full = key.removeprefix(OTHER_MODEL) if own else f"{block.model}:{key}"
                printed[full] = (*printed.get(full, ()), *texts)
    return "\n\n".join(blocks) + ("\n" if blocks else "")
