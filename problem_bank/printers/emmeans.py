"""``pairs(emmeans(fit, ~factor))`` as emmeans 1.8 prints it (``print.summary_emm``)."""

from __future__ import annotations

import math

from problem_bank.fitting import Fitted
from problem_bank.printers.rformat import (
    Printed,
    format_num,
    print_matrix,
    r_round,
    record,
    zapsmall,
)

#: How emmeans names the scale of a difference of link values ("log odds ratio" for logit).
_LINK_SCALE = {"logit": "log odds ratio", "log": "log"}

INTERACTION_NOTE = "NOTE: Results may be misleading due to involvement in interactions\n"


def _opt_dig(x: list[float]) -> int:
    """emmeans ``.opt.dig``: digits that resolve est ± 2 SE (at least 3)."""
    mx = max(abs(v) for v in x)
    if mx == 0:
        return 3
    z = [min(x) / mx, max(x) / mx]
    dz = zapsmall([z[1] - z[0], *z], 8)[0]
    if dz <= 0:
        return 3
    return max(int(r_round(1.51 - math.log10(dz))), 3)


def _record_contrasts(
    printed: Printed | None,
    fit: Fitted,
    factor: str,
    columns: dict[str, list[str]],
    stat_name: str,
) -> None:
    """Each contrast's printed cells under ``contrast:factor:a:b:what``, both ways round
    (b - a prints as minus a - b: its estimate and ratio change sign)."""
    if printed is None:
        return
    levels = fit.design.levels(factor)
    pairs = [(a, b) for i, a in enumerate(levels) for b in levels[i + 1 :]]
    for row, (a, b) in enumerate(pairs):
        for what, col, signed in (
            ("estimate", "estimate", True),
            ("se", "SE", False),
            ("t", stat_name, True),
            ("p", "p.value", False),
        ):
            text = columns[col][row].strip()
            record(printed, f"contrast:{factor}:{a}:{b}:{what}", text)
            flipped = text[1:] if text.startswith("-") else "-" + text
            record(printed, f"contrast:{factor}:{b}:{a}:{what}", flipped if signed else text)


def emmeans_pairs(fit: Fitted, factor: str, printed: Printed | None = None) -> str:
    """Tukey-adjusted pairwise contrasts with emmeans' notes and footnote.

    Columns: estimates to the digits that resolve est ± 2 SE (``.opt.dig``), t ratios
    (z ratios when df = Inf, as for GLMs) rounded to 3 decimals, p-values to 4 with
    ``<.0001`` below that. Footnotes: the factors averaged over, the link scale of a GLM's
    contrasts, and the Tukey family size (when there is more than one contrast).
    """
    rows = fit.pairs(factor)
    est = zapsmall([r.estimate for r in rows])
    se = zapsmall([r.se for r in rows])
    df = [r_round(r.df, 2) if math.isfinite(r.df) else r.df for r in rows]
    stat = zapsmall([r.t_ratio for r in rows])
    pv = zapsmall([r.p_value for r in rows])
    digits = max(_opt_dig([e - 2 * s, e, e + 2 * s]) for e, s in zip(est, se, strict=True))
    stat_name = "t.ratio" if all(math.isfinite(d) for d in df) else "z.ratio"
    p_txt = [
        "<.0001" if s.strip() == "0.0000" else s
        for s in format_num([r_round(p, 4) for p in pv], nsmall=4, sci=False)
    ]
    columns = {
        "contrast": [r.label for r in rows],
        "estimate": format_num(est, digits),
        "SE": format_num(se, digits),
        "df": format_num(df, digits),
        stat_name: format_num([r_round(t, 3) for t in stat], nsmall=3, sci=False),
        "p.value": p_txt,
    }
    _record_contrasts(printed, fit, factor, columns, stat_name)
    names, cells = [], []
    for name, col in columns.items():
        w = max(len(name), *(len(c) for c in col))
        if name == "contrast":
            cells.append([c.ljust(w) for c in col])
            names.append(name.ljust(w))
        else:
            cells.append([c.rjust(w) for c in col])
            names.append(name)
    matrix = [list(r) for r in zip(*cells, strict=True)]
    out = INTERACTION_NOTE if fit.emmeans_note(factor) else ""
    out += print_matrix(matrix, names, [""] * len(rows), right=True) + "\n"
    averaged = fit.emmeans_averaged_over(factor)
    if averaged:
        out += f"Results are averaged over the levels of: {', '.join(averaged)} \n"
    link = getattr(fit, "link", "identity")
    if link != "identity":
        out += (
            f"Results are given on the {_LINK_SCALE.get(link, link)} (not the response) scale. \n"
        )
    if len(rows) > 1:  # one contrast: emmeans drops the adjustment (and its note)
        k = len(fit.design.levels(factor))
        out += f"P value adjustment: tukey method for comparing a family of {k} estimates \n"
    return out
