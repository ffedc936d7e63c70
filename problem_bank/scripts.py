"""The R and Python scripts a student downloads: read ``data.csv`` beside them, fit, print.

Both are generated from the spec (never from student input), so they only contain column
names and levels the spec validated. The R script prints exactly ``output.txt``; the
Python script (pandas + statsmodels only) prints the same estimates in statsmodels' layout.
"""

from __future__ import annotations

from collections.abc import Callable

from problem_bank.spec import ProblemSpec
from problem_bank.terms import parse_formula


def _r_vector(values: list[str]) -> str:
    return "c(" + ", ".join(_r_string(v) for v in values) + ")"


def _r_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _r_fit(spec: ProblemSpec, name: str) -> str:
    model = spec.models[name]
    f = parse_formula(model.formula)
    if f.random:
        reml = "TRUE" if model.reml else "FALSE"
        return f"glmmTMB({model.formula}, data = {spec.data_name}, REML = {reml})"
    if model.family == "gaussian":
        return f"lm({model.formula}, data = {spec.data_name})"
    link = {"binomial": "logit", "poisson": "log"}[model.family]
    return (
        f'glm({model.formula}, family = {model.family}(link = "{link}"), data = {spec.data_name})'
    )


_R_PRINT: dict[str, Callable[[str, str | None], str]] = {
    "summary_lm": lambda fit, factor: f"print(summary({fit}))",
    "anova_lm": lambda fit, factor: f"print(anova({fit}))",
    "emmeans_pairs": lambda fit, factor: f"print(pairs(emmeans({fit}, ~ {factor})))",
    "summary_glm": lambda fit, factor: f"print(summary({fit}))",
    "summary_glmmtmb": lambda fit, factor: f"print(summary({fit}))",
    "check_overdispersion": lambda fit, factor: f"print(check_overdispersion({fit}))",
    "check_zeroinflation": lambda fit, factor: f"print(check_zeroinflation({fit}))",
}
_R_LIBRARIES = {
    "emmeans_pairs": "emmeans",
    "summary_glmmtmb": "glmmTMB",
    "check_overdispersion": "performance",
    "check_zeroinflation": "performance",
}


def r_script(spec: ProblemSpec, levels: dict[str, list[str]], seed: int) -> str:
    """R code that reproduces output.txt from data.csv in the script's own folder."""
    libs = sorted({_R_LIBRARIES[o.printer] for o in spec.output if o.printer in _R_LIBRARIES})
    lines = [
        f"# {spec.title}: problem {spec.id} v{spec.version}, seed {seed}",
        "# Run with: Rscript fit.R   (reads data.csv from this script's folder)",
        "options(useFancyQuotes = FALSE, width = 80)",
        *[f"suppressPackageStartupMessages(library({lib}))" for lib in libs],
        "args <- commandArgs(trailingOnly = FALSE)",
        'script <- sub("^--file=", "", args[grep("^--file=", args)])',
        "here <- if (length(script) == 1) dirname(normalizePath(script)) else getwd()",
        f'{spec.data_name} <- read.csv(file.path(here, "data.csv"))',
    ]
    for col, lv in levels.items():
        lines.append(
            f"{spec.data_name}${col} <- factor({spec.data_name}${col}, levels = {_r_vector(lv)})"
        )
    if not spec.output:  # a fit-it-yourself problem: load the data, leave the fitting to them
        lines.append(f"# Now fit the model the question asks for to `{spec.data_name}`.")
        return "\n".join(lines) + "\n"
    fitted_names = []
    for name in sorted(spec.models, key=lambda n: n != "main"):
        var = "fit" if name == "main" else f"fit_{name}"
        fitted_names.append(var)
        lines.append(f"{var} <- {_r_fit(spec, name)}")
    for block in spec.output:
        var = "fit" if block.model == "main" else f"fit_{block.model}"
        lines.append(_R_PRINT[block.printer](var, block.factor))
    return "\n".join(lines) + "\n"


_PY_HEADER = '''\
"""{title}: problem {id} v{version}, seed {seed}.

Run with: python fit.py   (reads data.csv from this script's folder; needs pandas and
statsmodels). Prints the same estimates as fit.R, in statsmodels' layout.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

here = Path(__file__).resolve().parent
'''

_PY_EMMEANS = '''

def tukey_pairs(fit, data, factor, levels):
    """pairs(emmeans(fit, ~ factor)): EMMs at covariate means, other factors averaged."""
    names = list(fit.params.index)
    used = data.loc[fit.model.data.row_labels] if hasattr(fit.model.data, "row_labels") else data
    others = {{c: len(used[c].cat.categories) for c in used.columns
              if isinstance(used[c].dtype, pd.CategoricalDtype) and c != factor}}

    def row(level):
        out = []
        for name in names:
            w = 1.0
            for part in name.split(":"):
                if part == "Intercept":
                    continue
                if part.startswith(f"C({{factor}}") or part.startswith(f"{{factor}}[T."):
                    w *= float(part.endswith(f"[T.{{level}}]"))
                elif "[T." in part:
                    var = part.split("[")[0]
                    w *= 1.0 / others.get(var, 1)
                else:
                    w *= float(used[part].mean())
            out.append(w)
        return np.array(out)

    k = len(levels)
    df = fit.df_resid if hasattr(fit, "df_resid") else np.inf
    print(" contrast estimate SE df t.ratio p.value")
    for i in range(k):
        for j in range(i + 1, k):
            c = row(levels[i]) - row(levels[j])
            est = float(c @ fit.params.to_numpy())
            se = float(np.sqrt(c @ fit.cov_params().to_numpy() @ c))
            t = est / se
            p = stats.studentized_range.sf(abs(t) * np.sqrt(2), k, df)
            label = f"{{levels[i]}} - {{levels[j]}}"
            print(f" {{label}} {{est:.4f}} {{se:.4f}} {{df:.0f}} {{t:.3f}} {{p:.4f}}")
    print("P value adjustment: tukey method for comparing a family of", k, "estimates")
'''


def _py_model(spec: ProblemSpec, name: str) -> tuple[str, list[str]]:
    """(fit statement, print statements) for one model."""
    model = spec.models[name]
    f = parse_formula(model.formula)
    var = "fit" if name == "main" else f"fit_{name}"
    d = spec.data_name
    if f.random:
        fixed = f"{f.response} ~ " + (" + ".join(":".join(t) for t in f.fixed) or "1")
        rand = f.random[0]
        slopes = [t for t in rand.terms if t != "(Intercept)"]
        re = "~" + (" + ".join(slopes) if slopes else "1")
        reml = "True" if model.reml else "False"
        stmt = (
            f"{var} = smf.mixedlm({fixed!r}, {d}.dropna(), groups={d}.dropna()[{rand.group!r}],"
            f" re_formula={re!r}).fit(reml={reml})"
        )
        prints = [
            f"print({var}.summary())",
            f'print("Random-effect SDs:", np.sqrt(np.diag({var}.cov_re)))',
            f'print("Residual SD:", np.sqrt({var}.scale))',
        ]
        return stmt, prints
    if model.family == "gaussian":
        return f"{var} = smf.ols({model.formula!r}, data={d}).fit()", [f"print({var}.summary())"]
    fam = {"binomial": "Binomial", "poisson": "Poisson"}[model.family]
    stmt = f"{var} = smf.glm({model.formula!r}, data={d}, family=sm.families.{fam}()).fit()"
    return stmt, [f"print({var}.summary())"]


_PY_EXTRA: dict[str, Callable[[str, str | None, ProblemSpec], list[str]]] = {
    # Type II: for the last term (the one asked about) it equals R's sequential anova.
    "anova_lm": lambda v, factor, spec: [f"print(sm.stats.anova_lm({v}, typ=2))"],
    "emmeans_pairs": lambda v, factor, spec: [
        f"tukey_pairs({v}, {spec.data_name}, {factor!r}, "
        f"list({spec.data_name}[{factor!r}].cat.categories))"
    ],
    "check_overdispersion": lambda v, factor, spec: [
        f"chisq = float(({v}.resid_pearson ** 2).sum())",
        f"ratio = chisq / {v}.df_resid",
        f"print('dispersion ratio =', round(ratio, 3), ' Pearson chi2 =', round(chisq, 3),"
        f" ' p =', stats.chi2.sf(chisq, {v}.df_resid))",
    ],
    "check_zeroinflation": lambda v, factor, spec: [
        f"observed = int(({v}.model.endog == 0).sum())",
        f"predicted = round(float(np.exp(-{v}.fittedvalues).sum()))",
        "print('observed zeros:', observed, ' predicted zeros:', predicted,"
        " ' ratio:', round(predicted / observed, 2))",
    ],
}


def python_script(spec: ProblemSpec, levels: dict[str, list[str]], seed: int) -> str:
    """Standalone Python (pandas + statsmodels) that fits the same models to data.csv."""
    d = spec.data_name
    text = _PY_HEADER.format(title=spec.title, id=spec.id, version=spec.version, seed=seed)
    if any(o.printer == "emmeans_pairs" for o in spec.output):
        text += _PY_EMMEANS.format()
    dtypes = ", ".join(f"{c!r}: 'string'" for c in levels)
    body = [f'{d} = pd.read_csv(here / "data.csv", dtype={{{dtypes}}})']
    for col, lv in levels.items():
        body.append(f"{d}[{col!r}] = pd.Categorical({d}[{col!r}], categories={lv!r})")
    if not spec.output:  # a fit-it-yourself problem: load the data, leave the fitting to them
        body.append(f"# Now fit the model the question asks for to `{d}`.")
        return text + "\n" + "\n".join(body) + "\n"
    printed: set[str] = set()
    for name in sorted(spec.models, key=lambda n: n != "main"):
        stmt, prints = _py_model(spec, name)
        body.append(stmt)
        if any(o.model == name for o in spec.output):
            body.extend(prints)
            printed.add(name)
    for block in spec.output:
        if block.printer in _PY_EXTRA:
            var = "fit" if block.model == "main" else f"fit_{block.model}"
            body.extend(_PY_EXTRA[block.printer](var, block.factor, spec))
    return text + "\n" + "\n".join(body) + "\n"
