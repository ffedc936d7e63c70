"""The R and Python scripts a student downloads: read ``data.csv`` beside them, fit, print.

Both are generated from the spec (never from student input), so they only contain column
names and levels the spec validated. The R script prints exactly ``output.txt``; the
Python script (pandas + statsmodels only) prints the same estimates in statsmodels' layout.
"""

from __future__ import annotations

from collections.abc import Callable

from problem_bank.families import family
from problem_bank.formula import parse_formula
from problem_bank.spec import OutputSpec, ProblemSpec


def _r_vector(values: list[str]) -> str:
    return "c(" + ", ".join(_r_string(v) for v in values) + ")"


def _r_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


#: After an ML glmmTMB fit with profile = TRUE: glmmTMB's SEs come from a Hessian taken where
#: nlminb stopped on the profiled objective, before its Newton steps to the optimum, which
#: moves the 7th significant digit of an SE (and a z value's last) in about a tenth of the
#: datasets; this recomputes them at the optimum, as output.txt shows them.
_R_SE_AT_OPTIMUM = (
    "# Standard errors at the optimum (glmmTMB takes its Hessian before its last Newton steps)\n"
    "{var}$sdr <- TMB::sdreport({var}$obj, par.fixed = {var}$fit$par)"
)


def r_var(model: str) -> str:
    """The R (and Python) variable a script fits spec model ``model`` into."""
    return "fit" if model == "main" else f"fit_{model}"


def r_fit_lines(spec: ProblemSpec, name: str, var: str) -> list[str]:
    """The R statements that fit model ``name`` into ``var``, as fit.R runs them."""
    lines = [f"{var} <- {_r_fit(spec, name)}"]
    model = spec.models[name]
    if parse_formula(model.formula).random and not model.reml:
        lines.append(_R_SE_AT_OPTIMUM.format(var=var))
    return lines


def _r_fit(spec: ProblemSpec, name: str) -> str:
    model = spec.models[name]
    f = parse_formula(model.formula)
    if f.random:
        if model.reml:
            return f"glmmTMB({model.formula}, data = {spec.data_name}, REML = TRUE)"
        # From its default start (all fixed effects 0), glmmTMB 1.1.5's nlminb stops at a
        # spurious correlation of +-1 (NA AIC, non-positive-definite Hessian) for about one
        # random-slope dataset in five; profiling the fixed effects out reaches the ML
        # optimum (lme4's). It cannot be used with REML, where glmmTMB errors.
        return (
            f"glmmTMB({model.formula}, data = {spec.data_name}, REML = FALSE,\n"
            "  control = glmmTMBControl(profile = TRUE))"
        )
    return family(model.family).r_call(model.formula, spec.data_name)


_R_PRINT: dict[str, Callable[[str, OutputSpec], str]] = {
    "summary_lm": lambda fit, o: f"summary({fit})",
    "anova_lm": lambda fit, o: f"anova({fit})",
    "emmeans_pairs": lambda fit, o: f"pairs(emmeans({fit}, ~ {o.factor}))",
    "summary_glm": lambda fit, o: f"summary({fit})",
    "summary_glmmtmb": lambda fit, o: f"summary({fit})",
    "check_overdispersion": lambda fit, o: f"check_overdispersion({fit})",
    "check_zeroinflation": lambda fit, o: f"check_zeroinflation({fit})",
    "aic_table": lambda fit, o: f"AIC({', '.join(r_var(m) for m in o.models)})",
}
#: output.txt is each printout with its trailing blank lines dropped, one blank line between
#: printouts. R's own print() ends some printouts with a blank line (summary) and not others
#: (anova), and performance prints its verdict with message(), i.e. on stderr; this helper
#: makes Rscript's stdout byte-identical to output.txt.
_R_PRINT_BLOCK = """\
# print(x), with messages (performance's verdicts) kept in the printout and trailing blank
# lines dropped, so that the printouts read like output.txt.
print_block <- function(x) {
  out <- capture.output(withCallingHandlers(print(x), message = function(m) {
    cat(conditionMessage(m))
    invokeRestart("muffleMessage")
  }))
  while (length(out) > 0 && out[length(out)] == "") out <- out[-length(out)]
  writeLines(out)
}"""
_R_LIBRARIES = {
    "emmeans_pairs": "emmeans",
    "summary_glmmtmb": "glmmTMB",
    "check_overdispersion": "performance",
    "check_zeroinflation": "performance",
}


def r_script(spec: ProblemSpec, levels: dict[str, list[str]]) -> str:
    """R code that reproduces output.txt from data.csv in the script's own folder.

    No seed in it: the script is handed to the student, and with the seed anyone could
    regenerate the variant, its reference answers included.
    """
    libs = sorted(
        {_R_LIBRARIES[o.printer] for o in spec.output if o.printer in _R_LIBRARIES}
        | {p for m in spec.models.values() if (p := family(m.family).r_package) is not None}
    )
    lines = [
        f"# {spec.title}: problem {spec.id} v{spec.version}",
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
        var = r_var(name)
        fitted_names.append(var)
        lines.extend(r_fit_lines(spec, name, var))
    lines.append(_R_PRINT_BLOCK)
    for i, block in enumerate(spec.output):
        var = r_var(block.model)
        if i:
            lines.append('cat("\\n")')
        lines.append(f"print_block({_R_PRINT[block.printer](var, block)})")
    return "\n".join(lines) + "\n"


_PY_HEADER = '''\
"""{title}: problem {id} v{version}.

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


#: Seven significant digits, as R prints estimates.
_PY_G7 = "{:.7g}"

# statsmodels' default optimizer (BFGS) stops far from the optimum, with a warning, for
# about half the random-slope datasets, and L-BFGS and Powell each fail on others; the
# best of the three agrees with lme4 and glmmTMB to ~1e-4 (checked on 60 seeds).
_PY_MIXED = '''

def fit_mixed(model, reml):
    """The fit with the highest (restricted) likelihood of three optimizers.

    Each optimizer stops short of the optimum on some datasets; their warnings are
    expected, so they are silenced.
    """
    fits = []
    for method in ("lbfgs", "bfgs", "powell"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits.append(model.fit(reml=reml, method=method))
    return max((f for f in fits if np.isfinite(f.llf)), key=lambda f: f.llf)
'''


def _py_model(spec: ProblemSpec, name: str) -> tuple[str, list[str]]:
    """(fit statement, print statements) for one model."""
    model = spec.models[name]
    f = parse_formula(model.formula)
    var = r_var(name)
    d = spec.data_name
    if f.random:
        fixed = f"{f.response} ~ " + (" + ".join(f.term_labels) or "1")
        rand = f.random[0]
        slopes = list(rand.slopes)
        re = "~" + (" + ".join(slopes) if slopes else "1")
        reml = "True" if model.reml else "False"
        stmt = (
            f"{var} = fit_mixed(smf.mixedlm({fixed!r}, {d}.dropna(),"
            f" groups={d}.dropna()[{rand.group!r}], re_formula={re!r}), reml={reml})"
        )
        prints = [
            f"print({var}.summary())",
            # The summary rounds to 3 decimals; questions ask for 3 significant digits.
            'print("Fixed effects:")',
            f"print({var}.fe_params.to_string(float_format={_PY_G7!r}.format))",
            f'print("Random-effect SDs:", np.sqrt(np.diag({var}.cov_re)))',
            f'print("Residual SD:", np.sqrt({var}.scale))',
        ]
        return stmt, prints
    # The summary rounds to 4 decimals (0.0186 for 0.01864); print the estimates with 7
    # significant digits, as R does, too.
    prints = [
        f"print({var}.summary())",
        'print("Estimates:")',
        f"print({var}.params.to_string(float_format={_PY_G7!r}.format))",
    ]
    fam = family(model.family)
    stmt = fam.py_call.format(var=var, f=model.formula, d=d)
    return stmt, prints if fam.py_estimates else [f"print({var}.summary())"]


def _py_zeros(v: str, spec: ProblemSpec, model: str) -> list[str]:
    p0: tuple[str, ...]
    if family(spec.models[model].family).has_theta:
        p0 = (
            f"theta = 1 / {v}.params['alpha']",
            f"mu = {v}.predict()",
            "predicted = round(float(((theta / (theta + mu)) ** theta).sum()))",
        )
    else:
        p0 = (f"predicted = round(float(np.exp(-{v}.fittedvalues).sum()))",)
    return [
        f"observed = int(({v}.model.endog == 0).sum())",
        *p0,
        "print('observed zeros:', observed, ' predicted zeros:', predicted,"
        " ' ratio:', round(predicted / observed, 2))",
    ]


_PY_EXTRA: dict[str, Callable[[str, OutputSpec, ProblemSpec], list[str]]] = {
    # Type II: for the last term (the one asked about) it equals R's sequential anova.
    "anova_lm": lambda v, o, spec: [f"print(sm.stats.anova_lm({v}, typ=2))"],
    "emmeans_pairs": lambda v, o, spec: [
        f"tukey_pairs({v}, {spec.data_name}, {o.factor!r}, "
        f"list({spec.data_name}[{o.factor!r}].cat.categories))"
    ],
    "check_overdispersion": lambda v, o, spec: [
        f"chisq = float(({v}.resid_pearson ** 2).sum())",
        f"ratio = chisq / {v}.df_resid",
        f"print('dispersion ratio =', round(ratio, 3), ' Pearson chi2 =', round(chisq, 3),"
        f" ' p =', stats.chi2.sf(chisq, {v}.df_resid))",
    ],
    "check_zeroinflation": lambda v, o, spec: _py_zeros(v, spec, o.model),
    "aic_table": lambda v, o, spec: [f"print({r_var(m)!r}, {r_var(m)}.aic)" for m in o.models],
}


def python_script(spec: ProblemSpec, levels: dict[str, list[str]]) -> str:
    """Standalone Python (pandas + statsmodels) that fits the same models to data.csv.

    Like :func:`r_script`, it never names the seed.
    """
    d = spec.data_name
    text = _PY_HEADER.format(title=spec.title, id=spec.id, version=spec.version)
    if any(o.printer == "emmeans_pairs" for o in spec.output):
        text += _PY_EMMEANS.format()
    mixed = any(parse_formula(m.formula).random for m in spec.models.values())
    helpers = dict.fromkeys(h for m in spec.models.values() if (h := family(m.family).py_helper))
    if spec.output and (mixed or helpers):
        text = text.replace(
            "from pathlib import Path\n", "import warnings\nfrom pathlib import Path\n"
        )
        text += (_PY_MIXED if mixed else "") + "".join(helpers)
    if not text.endswith("parent\n"):  # helper functions: two blank lines after them (PEP 8)
        text += "\n"
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
            var = r_var(block.model)
            body.extend(_PY_EXTRA[block.printer](var, block, spec))
    return text + "\n" + "\n".join(body) + "\n"
