"""The safe expression vocabulary that answers, misconceptions and placeholders are written in.

An expression is parsed with :mod:`ast` and every node is checked against a whitelist, so
a spec uploaded by an instructor can never run code: there is no ``eval``/``exec``, no
attribute access, no subscripts, no lambdas, and only the functions in :data:`SIGNATURES`
can be called. Evaluation walks the checked tree against a :class:`Context`.

Rounding-aware acceptance: while evaluating, every printed quantity an expression reads
(a coefficient, a variance component, a p-value...) is recorded as a *leaf*. Re-evaluating
with each leaf moved to the ends of what its printed text shows gives the range of answers a
student gets when working from the printed, rounded numbers (the rule itself lives in
:mod:`problem_bank.acceptance`).
"""

from __future__ import annotations

import ast
import functools
import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class ExpressionError(ValueError):
    """An expression is outside the vocabulary, or cannot be evaluated on this variant."""


# ---------------------------------------------------------------------------------- limits
# Python's integers and strings grow without bound: ``9**9**7`` computes for minutes and
# ``"x" * 10**8`` is 100 MB. Every value an expression produces is kept to what a spec
# needs, so evaluating one costs microseconds whatever an author writes.

#: Characters in an expression (a built-in's longest is about 120).
MAX_SOURCE_CHARS = 2000
#: Nesting of operators and calls (``-(-(-(...)))``, ``1+1+...+1``).
MAX_DEPTH = 50
#: Largest magnitude of an integer value (a double overflows past 1.8e308 anyway).
MAX_INT = 10**308
#: Characters in a text value: coefficient and level names (``"Dose" + g``).
MAX_TEXT_CHARS = 200
#: ``round(x, d)``: |d| at most this.
MAX_ROUND_DIGITS = 15


# ----------------------------------------------------------------------------- signatures


@dataclass(frozen=True)
class Signature:
    """What a vocabulary function accepts; checked when a spec is loaded, not when graded."""

    min_args: int
    max_args: int
    keywords: frozenset[str] = frozenset()
    #: Any keyword is accepted (predict's predictor values).
    any_keywords: bool = False
    #: Argument positions that must be string literals (or names of parameters).
    string_args: tuple[int, ...] = ()
    #: Allowed literal values per argument position.
    choices: Mapping[int, frozenset[str]] = field(default_factory=dict)
    #: Reads a fitted model (so it takes ``model=``) rather than pure arithmetic.
    model: bool = False
    #: What the function gives, in a few words (docs/authoring.md describes it in full).
    doc: str = ""
    #: What the model must offer (a capability of :mod:`problem_bank.families`).
    needs: str | None = None


_M = frozenset({"model"})

#: The residuals ``residual(row, type)`` gives, as R's ``residuals(fit, type = ...)``. R's
#: "working" and "partial" residuals are not offered: nothing a student reads prints them.
RESIDUAL_TYPES = ("response", "pearson", "deviance")
_STAT = Signature(1, 1, _M, string_args=(0,), model=True)

#: The vocabulary. Keys are the only names an expression may call.
SIGNATURES: dict[str, Signature] = {
    "coef": Signature(1, 1, _M, string_args=(0,), model=True, doc="estimate, R name"),
    "se": Signature(1, 1, _M, string_args=(0,), model=True, doc="standard error"),
    "tvalue": Signature(1, 1, _M, string_args=(0,), model=True, doc="t or z value"),
    "pvalue": Signature(1, 1, _M, string_args=(0,), model=True, doc="Pr(>|t|) / Pr(>|z|)"),
    "predict": Signature(
        0,
        0,
        frozenset({"model", "scale", "group"}),
        any_keywords=True,
        model=True,
        doc='prediction at given predictor values; scale="response"|"link"',
    ),
    "varcorr": Signature(
        2,
        3,
        _M,
        string_args=(0, 1, 2),
        choices={2: frozenset({"sd", "var"})},
        model=True,
        doc='random-effect SD or variance: varcorr(group, term, "sd"|"var")',
    ),
    "ranef": Signature(
        3, 3, _M, string_args=(0, 1, 2), model=True, doc="BLUP: ranef(group, level, term)"
    ),
    "residual_sd": Signature(
        0, 0, _M, model=True, doc="residual SD (gaussian)", needs="residual_sd"
    ),
    "residual_var": Signature(
        0, 0, _M, model=True, doc="residual variance (gaussian)", needs="residual_sd"
    ),
    "icc": Signature(
        0, 1, _M, string_args=(0,), model=True, doc="adjusted ICC", needs="residual_sd"
    ),
    "contrast": Signature(
        3,
        4,
        _M,
        string_args=(0, 1, 2, 3),
        choices={3: frozenset({"estimate", "se", "t", "p"})},
        model=True,
        doc="emmeans Tukey pair a - b",
        needs="emmeans_pairs",
    ),
    "anova_f": Signature(
        1, 1, _M, string_args=(0,), model=True, doc="sequential anova F", needs="anova_lm"
    ),
    "anova_p": Signature(
        1, 1, _M, string_args=(0,), model=True, doc="sequential anova p", needs="anova_lm"
    ),
    "anova_df": Signature(
        1, 1, _M, string_args=(0,), model=True, doc="sequential anova df", needs="anova_lm"
    ),
    "dispersion_ratio": Signature(
        0, 0, _M, model=True, doc="Pearson chi2 / residual df", needs="check_overdispersion"
    ),
    "dispersion_p": Signature(
        0, 0, _M, model=True, doc="overdispersion test p", needs="check_overdispersion"
    ),
    "observed_zeros": Signature(
        0, 0, _M, model=True, doc="zeros in the response", needs="check_zeroinflation"
    ),
    "predicted_zeros": Signature(
        0, 0, _M, model=True, doc="zeros the model predicts", needs="check_zeroinflation"
    ),
    "zero_ratio": Signature(
        0, 0, _M, model=True, doc="predicted / observed zeros", needs="check_zeroinflation"
    ),
    "aic": Signature(0, 0, _M, model=True, doc="AIC of a count model", needs="aic"),
    "observed": Signature(
        2, 2, string_args=(0,), doc="a value of the data: observed(column, row), row from 1"
    ),
    "fitted": Signature(
        1,
        1,
        frozenset({"model", "scale"}),
        model=True,
        doc='fitted value of a data row; scale="response"|"link"',
        needs="row_residuals",
    ),
    "residual": Signature(
        2,
        2,
        _M,
        string_args=(1,),
        choices={1: frozenset(RESIDUAL_TYPES)},
        model=True,
        doc='residual of a data row: residual(row, "response"|"pearson"|"deviance")',
        needs="row_residuals",
    ),
    "nobs": Signature(0, 0, _M, model=True, doc="rows used in the fit"),
    "df_resid": Signature(0, 0, _M, model=True, doc="residual degrees of freedom"),
    "param": Signature(1, 1, string_args=(0,), doc="a value drawn for this variant"),
    "qt": Signature(2, 2, doc="R's qt(p, df): the p quantile of Student's t with df"),
    "invlogit": Signature(1, 1, doc="1 / (1 + exp(-x))"),
    "logit": Signature(1, 1, doc="log(p / (1 - p))"),
    "exp": Signature(1, 1, doc="e to the x"),
    "log": Signature(1, 1, doc="natural logarithm"),
    "sqrt": Signature(1, 1, doc="square root"),
    "abs": Signature(1, 1, doc="absolute value"),
    "round": Signature(1, 2, doc="round(x, digits)"),
    "min": Signature(2, 2, doc="the smaller of two"),
    "max": Signature(2, 2, doc="the larger of two"),
    "ifelse": Signature(3, 3, doc="ifelse(condition, if_true, if_false)"),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float)


def _add(a: Any, b: Any) -> Any:
    """Numbers add; texts join (``"Dose" + g`` builds a coefficient name)."""
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    if _is_number(a) and _is_number(b):
        return a + b
    raise ExpressionError(f"cannot add {_kind(a)} and {_kind(b)}")


def _numeric(op: Callable[[Any, Any], Any], symbol: str) -> Callable[[Any, Any], Any]:
    """An operator on numbers only: ``"x" * 10**8`` is refused, not built."""

    def run(a: Any, b: Any) -> Any:
        if not (_is_number(a) and _is_number(b)):
            raise ExpressionError(f"{symbol} needs two numbers, not {_kind(a)} and {_kind(b)}")
        return op(a, b)

    return run


def _pow(a: Any, b: Any) -> Any:
    """``a ** b``, refused before computing when an integer result would pass MAX_INT."""
    whole = isinstance(a, int) and isinstance(b, int)
    if whole and b > 0 and abs(a) > 1 and b * math.log10(abs(a)) > 308:
        raise ExpressionError(f"{_show(a)} ** {_show(b)} is larger than 1e308")
    return a**b


def _kind(value: Any) -> str:
    return "text" if isinstance(value, str) else "a number" if _is_number(value) else "a value"


def _show(value: Any) -> str:
    text = f"{value:.3g}" if isinstance(value, float) else str(value)
    return text if len(text) <= 20 else f"{float(value):.3g}"


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: _add,
    ast.Sub: _numeric(lambda a, b: a - b, "-"),
    ast.Mult: _numeric(lambda a, b: a * b, "*"),
    ast.Div: _numeric(lambda a, b: a / b, "/"),
    ast.Pow: _numeric(_pow, "**"),
}
_CMPOPS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
}


@dataclass(frozen=True)
class Call:
    """One vocabulary call found in an expression, for the spec's semantic checks."""

    name: str
    args: tuple[Any, ...]  # literal values, or None where the argument is not a literal
    keywords: dict[str, Any]
    #: The name where an argument is a bare name (a parameter), else None.
    arg_names: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class Expression:
    """A parsed, whitelisted expression."""

    source: str
    tree: ast.expr
    calls: tuple[Call, ...]
    names: frozenset[str]

    def evaluate(self, ctx: Context, overrides: Mapping[str, float] | None = None) -> Any:
        """The value on this variant; ``overrides`` replaces recorded leaves (rounding)."""
        run = _Run(ctx, dict(overrides or {}))
        return run.eval(self.tree)

    def evaluate_with_leaves(self, ctx: Context) -> tuple[Any, dict[str, Leaf]]:
        """The value and the printed quantities it read."""
        run = _Run(ctx, {})
        value = run.eval(self.tree)
        return value, run.leaves


def parse(source: str) -> Expression:
    """Parse and whitelist an expression; :class:`ExpressionError` says what is not allowed."""
    if not isinstance(source, str):
        raise ExpressionError("an expression must be text")
    return _parse(source)


@functools.lru_cache(maxsize=4096)
def _parse(source: str) -> Expression:
    if not source.strip():
        raise ExpressionError("empty expression")
    if len(source) > MAX_SOURCE_CHARS:
        raise ExpressionError(f"expression longer than {MAX_SOURCE_CHARS} characters")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {_quote(source)}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError):  # a NUL byte; nesting CPython refuses
        raise ExpressionError(f"cannot parse {_quote(source)}") from None
    calls: list[Call] = []
    names: set[str] = set()
    _check(tree.body, calls, names, 0)
    return Expression(source.strip(), tree.body, tuple(calls), frozenset(names))


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
    ):
        return -node.operand.value
    return None


def _is_text(node: ast.expr) -> bool:
    """A quoted name, a parameter, or a ``+`` of those (``"Dose" + level``)."""
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    return (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Add)
        and (_is_text(node.left) and _is_text(node.right))
    )


def _quote(source: str) -> str:
    return repr(source if len(source) <= 60 else source[:57] + "...")


def _check(node: ast.AST, calls: list[Call], names: set[str], depth: int) -> None:
    """Reject every node that is not in the whitelist, and nesting past MAX_DEPTH."""
    if depth > MAX_DEPTH:
        raise ExpressionError(f"expression nested deeper than {MAX_DEPTH} levels")
    depth += 1
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, int | float | str):
            raise ExpressionError(f"literal {node.value!r} is not allowed")
        if isinstance(node.value, int) and abs(node.value) > MAX_INT:
            raise ExpressionError("a number larger than 1e308")
        if isinstance(node.value, str) and len(node.value) > MAX_TEXT_CHARS:
            raise ExpressionError(f"a text longer than {MAX_TEXT_CHARS} characters")
        return
    if isinstance(node, ast.Name):
        if not node.id.isidentifier() or node.id.startswith("_"):
            raise ExpressionError(f"name {node.id!r} is not allowed")
        names.add(node.id)
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed")
        if not isinstance(node.op, ast.Add) and any(
            isinstance(side, ast.Constant) and isinstance(side.value, str)
            for side in (node.left, node.right)
        ):
            raise ExpressionError("only + works on text (to join names)")
        _check(node.left, calls, names, depth)
        _check(node.right, calls, names, depth)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed")
        _check(node.operand, calls, names, depth)
        return
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, calls, names, depth)
        return
    if isinstance(node, ast.Compare):
        if any(type(op) not in _CMPOPS for op in node.ops):
            raise ExpressionError("only <, <=, >, >=, ==, != comparisons are allowed")
        _check(node.left, calls, names, depth)
        for comparator in node.comparators:
            _check(comparator, calls, names, depth)
        return
    if isinstance(node, ast.Call):
        _check_call(node, calls, names, depth)
        return
    raise ExpressionError(f"{type(node).__name__} is not allowed in an expression")


def _check_call(node: ast.Call, calls: list[Call], names: set[str], depth: int) -> None:
    if not isinstance(node.func, ast.Name):
        raise ExpressionError("only calls to vocabulary functions are allowed (no attributes)")
    name = node.func.id
    sig = SIGNATURES.get(name)
    if sig is None:
        raise ExpressionError(f"unknown function {name!r}; allowed: {', '.join(SIGNATURES)}")
    if any(isinstance(a, ast.Starred) for a in node.args) or any(
        k.arg is None for k in node.keywords
    ):
        raise ExpressionError(f"{name}(): * and ** arguments are not allowed")
    if not sig.min_args <= len(node.args) <= sig.max_args:
        want = (
            str(sig.min_args)
            if sig.min_args == sig.max_args
            else f"{sig.min_args} to {sig.max_args}"
        )
        raise ExpressionError(f"{name}() takes {want} positional arguments")
    for kw in node.keywords:
        if kw.arg not in sig.keywords and not sig.any_keywords:
            raise ExpressionError(f"{name}() has no keyword {kw.arg!r}")
    args = tuple(_literal(a) for a in node.args)
    for pos in sig.string_args:
        if pos < len(node.args):
            arg = node.args[pos]
            if not _is_text(arg):
                raise ExpressionError(f"{name}(): argument {pos + 1} must be a quoted name")
    for pos, allowed in sig.choices.items():
        if pos < len(args) and args[pos] is not None and args[pos] not in allowed:
            raise ExpressionError(
                f"{name}(): argument {pos + 1} must be one of {sorted(allowed)}, not {args[pos]!r}"
            )
    keywords = {k.arg: _literal(k.value) for k in node.keywords if k.arg is not None}
    if "scale" in sig.keywords and keywords.get("scale", "response") not in ("response", "link"):
        raise ExpressionError(f'{name}(): scale must be "response" or "link"')
    for kw in node.keywords:
        if kw.arg in ("model", "scale") and not isinstance(_literal(kw.value), str):
            raise ExpressionError(f"{name}(): {kw.arg}= must be a quoted string")
    arg_names = tuple(a.id if isinstance(a, ast.Name) else None for a in node.args)
    calls.append(Call(name, args, keywords, arg_names))
    for arg in node.args:
        _check(arg, calls, names, depth)
    for kw in node.keywords:
        _check(kw.value, calls, names, depth)


# ----------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Leaf:
    """A printed quantity an answer is computed from.

    ``rounded`` is False for exact quantities (counts, values the story states), which a
    student copies without rounding error.
    """

    value: float
    rounded: bool = True


class Context(Protocol):
    """What evaluation needs: models by name, the values drawn for the variant, its data."""

    def model(self, name: str) -> ModelView: ...

    def value(self, name: str) -> Any: ...

    def observed(self, column: str, row: int) -> Any:
        """The data's value in ``column`` at ``row`` (1-based, as R's ``dat[row, column]``)."""
        ...


class ModelView(Protocol):
    """Read access to one fitted model, in R's names (see :mod:`problem_bank.reference`)."""

    def stat(self, what: str, name: str) -> float: ...

    def design_row(self, values: Mapping[str, Any]) -> dict[str, float]: ...

    def inverse_link(self, eta: float) -> float: ...

    def varcorr(self, group: str, term: str, which: str) -> float: ...

    def ranef(self, group: str, level: str, term: str) -> float: ...

    def residual_var(self) -> float: ...

    def contrast(self, factor: str, a: str, b: str, what: str) -> float: ...

    def anova(self, term: str, what: str) -> float: ...

    def scalar(self, name: str) -> float: ...

    def groups(self) -> dict[str, list[str]]: ...

    def row_values(self, row: int) -> dict[str, Any]:
        """The model's predictor values in data row ``row`` (1-based), as ``predict`` takes."""
        ...

    def response(self, row: int) -> float:
        """The response the model was fitted to in data row ``row`` (1-based)."""
        ...

    def residual(self, y: float, mu: float, kind: str) -> float:
        """R's residual of ``kind`` for response ``y`` and fitted mean ``mu``."""
        ...


def row_problem(row: Any) -> str | None:
    """Why ``row`` is not a row number, or None: rows count from 1, as R's ``dat[1, ]``."""
    if isinstance(row, bool) or not _is_number(row):
        return f"a row number must be a number, not {_kind(row)}"
    if isinstance(row, float) and not (math.isfinite(row) and row.is_integer()):
        return f"row {_show(row)} is not a whole number"
    if row < 1:
        return f"row {_show(row)}: rows are numbered from 1, as in R's dat[1, ]"
    return None


def row_index(row: Any, n_rows: int) -> int:
    """The 0-based position of 1-based ``row`` in data of ``n_rows`` rows; ExpressionError
    saying what is wrong with it otherwise."""
    if problem := row_problem(row):
        raise ExpressionError(problem)
    if row > n_rows:
        raise ExpressionError(f"row {int(row)} is past the last row of the data ({n_rows} rows)")
    return int(row) - 1


def _invlogit(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _round(x: Any, d: Any = 0) -> Any:
    """R's round(x, digits) on a number; ``round(5, -10**8)`` would compute 10**(10**8)."""
    if not (_is_number(x) and _is_number(d)):
        raise ExpressionError("round() takes numbers")
    digits = int(d)
    if abs(digits) > MAX_ROUND_DIGITS:
        raise ExpressionError(
            f"round(): digits must be between -{MAX_ROUND_DIGITS} and {MAX_ROUND_DIGITS}"
        )
    return round(x, digits)


def _qt(p: float, df: float) -> float:
    """R's ``qt(p, df)``: ``coef ± qt(0.975, df_resid()) * se`` is confint.lm's 95 % interval."""
    from scipy.stats import t  # only specs that ask for a quantile pay for scipy.stats

    if not 0.0 < p < 1.0 or not df > 0.0:
        raise ValueError("needs 0 < p < 1 and df > 0")
    return float(t.ppf(p, df))


_MATH: dict[str, Callable[..., Any]] = {
    "qt": _qt,
    "invlogit": _invlogit,
    "logit": lambda p: math.log(p / (1.0 - p)),
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "abs": abs,
    "round": _round,
    "min": min,
    "max": max,
}


def _bounded(value: Any) -> Any:
    """``value`` if it is within the limits; ExpressionError naming the limit otherwise."""
    if isinstance(value, str):
        if len(value) > MAX_TEXT_CHARS:
            raise ExpressionError(f"a text longer than {MAX_TEXT_CHARS} characters")
    elif isinstance(value, int):
        if abs(value) > MAX_INT:
            raise ExpressionError("a number larger than 1e308")
    elif isinstance(value, complex):
        raise ExpressionError("a complex number (a negative number to a fractional power?)")
    return value


# Quantities that are counts: read exactly, never rounded.
_EXACT_SCALARS = frozenset({"observed_zeros", "nobs", "df_resid"})


class _Run:
    """One evaluation: resolves calls, records leaves, applies overrides."""

    def __init__(self, ctx: Context, overrides: dict[str, float]) -> None:
        self.ctx = ctx
        self.overrides = overrides
        self.leaves: dict[str, Leaf] = {}

    def leaf(self, key: str, compute: Callable[[], float], rounded: bool = True) -> float:
        if key in self.overrides:
            return self.overrides[key]
        value = float(compute())
        self.leaves.setdefault(key, Leaf(value, rounded))
        return value

    def observed(self, column: str, row: Any) -> Any:
        """A value of the data, as the CSV shows it: exact (a student copies it), and
        text for a factor (``observed("Dose", 3) == "control"``)."""
        if problem := row_problem(row):
            raise ExpressionError(f"observed(): {problem}")
        value = self.ctx.observed(column, int(row))
        if isinstance(value, str):
            return value
        return self.leaf(f"data:{column}:{int(row)}", lambda: value, rounded=False)

    def eval(self, node: ast.expr) -> Any:
        """The node's value, checked against the limits (every operator and call)."""
        return _bounded(self._eval(node))

    def _eval(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.ctx.value(node.id)
        if isinstance(node, ast.BinOp):
            left, right = self.eval(node.left), self.eval(node.right)
            try:
                return _BINOPS[type(node.op)](left, right)
            except (ZeroDivisionError, OverflowError, TypeError) as exc:
                raise ExpressionError(f"cannot compute: {exc}") from None
        if isinstance(node, ast.UnaryOp):
            value = self.eval(node.operand)
            if isinstance(node.op, ast.Not):
                return not value
            if not _is_number(value):
                raise ExpressionError(f"cannot negate {_kind(value)}")
            return -value if isinstance(node.op, ast.USub) else +value
        if isinstance(node, ast.BoolOp):
            values = [self.eval(v) for v in node.values]
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.Compare):
            left = self.eval(node.left)
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = self.eval(comp)
                try:
                    holds = _CMPOPS[type(op)](left, right)
                except TypeError:
                    raise ExpressionError(
                        f"cannot compare {_kind(left)} with {_kind(right)}"
                    ) from None
                if not holds:
                    return False
                left = right
            return True
        if isinstance(node, ast.Call):
            return self.call(node)
        raise ExpressionError(f"{type(node).__name__} is not allowed")  # pragma: no cover

    def call(self, node: ast.Call) -> Any:
        assert isinstance(node.func, ast.Name)
        name = node.func.id
        if name == "ifelse":  # lazy: only the chosen branch is read
            cond = self.eval(node.args[0])
            return self.eval(node.args[1] if cond else node.args[2])
        args = [self.eval(a) for a in node.args]
        kwargs = {k.arg: self.eval(k.value) for k in node.keywords if k.arg}
        if name in _MATH:
            try:
                return _MATH[name](*args)
            except (ValueError, OverflowError, ZeroDivisionError, TypeError) as exc:
                raise ExpressionError(f"{name}(): {exc}") from None
        if name == "param":
            return self.ctx.value(str(args[0]))
        if name == "observed":
            return self.observed(str(args[0]), args[1])
        model_name = kwargs.pop("model", "main")
        model = self.ctx.model(model_name)
        handler = _MODEL_FUNCTIONS[name]
        return handler(self, model, model_name, args, kwargs)


def _stat(what: str) -> Callable[..., float]:
    def run(r: _Run, m: ModelView, mn: str, args: list[Any], kw: dict[str, Any]) -> float:
        return r.leaf(f"{mn}:{what}:{args[0]}", lambda: m.stat(what, str(args[0])))

    return run


def _linear_predictor(r: _Run, m: ModelView, mn: str, values: Mapping[str, Any]) -> float:
    """x'β from the printed coefficients, as a student computes it from the summary."""
    eta = 0.0
    for coef_name, weight in m.design_row(values).items():
        if weight != 0.0:
            eta += weight * r.leaf(
                f"{mn}:coef:{coef_name}", functools.partial(m.stat, "coef", coef_name)
            )
    return eta


def _predict(r: _Run, m: ModelView, mn: str, args: list[Any], kw: dict[str, Any]) -> float:
    """Linear predictor from the printed coefficients (and the group's BLUPs), then the link."""
    scale = kw.pop("scale", "response")
    group = kw.pop("group", None)
    eta = _linear_predictor(r, m, mn, kw)
    if group is not None:
        for gname in m.groups():
            for term, weight in _random_row(m, gname, kw).items():
                key = f"{mn}:ranef:{gname}:{group}:{term}"
                eta += weight * r.leaf(key, functools.partial(m.ranef, gname, str(group), term))
    return eta if scale == "link" else m.inverse_link(eta)


def _fitted(r: _Run, m: ModelView, mn: str, args: list[Any], kw: dict[str, Any]) -> float:
    """R's ``fitted(fit)[row]`` (``predict(fit, type = "link")[row]`` on the link scale):
    the row's predictor values through the printed coefficients, so it is ``predict`` at
    that row and a student working from the summary is accepted."""
    eta = _linear_predictor(r, m, mn, m.row_values(args[0]))
    return eta if kw.get("scale", "response") == "link" else m.inverse_link(eta)


def _residual(r: _Run, m: ModelView, mn: str, args: list[Any], kw: dict[str, Any]) -> float:
    """R's ``residuals(fit, type = kind)[row]``: the observed response (exact, from the
    data) against the fitted value (from the printed coefficients)."""
    mu = _fitted(r, m, mn, [args[0]], {})  # checks the row first
    row, kind = int(args[0]), str(args[1])
    y = r.leaf(f"{mn}:response:{row}", lambda: m.response(row), rounded=False)
    return m.residual(y, mu, kind)


def _random_row(m: ModelView, group: str, values: Mapping[str, Any]) -> dict[str, float]:
    terms = m.groups()[group]
    row: dict[str, float] = {}
    for term in terms:
        row[term] = 1.0 if term == "(Intercept)" else float(values[term])
    return row


def _varcorr(r: _Run, m: ModelView, mn: str, args: list[Any], kw: dict[str, Any]) -> float:
    which = args[2] if len(args) > 2 else "sd"
    g, t = str(args[0]), str(args[1])
    return r.leaf(f"{mn}:varcorr:{g}:{t}:{which}", lambda: m.varcorr(g, t, which))


def _ranef(r: _Run, m: ModelView, mn: str, args: list[Any], kw: dict[str, Any]) -> float:
    g, lvl, t = (str(a) for a in args)
    return r.leaf(f"{mn}:ranef:{g}:{lvl}:{t}", lambda: m.ranef(g, lvl, t))


def _residual_var(r: _Run, m: ModelView, mn: str, args: list[Any], kw: dict[str, Any]) -> float:
    return r.leaf(f"{mn}:residual_var", m.residual_var)


def _residual_sd(r: _Run, m: ModelView, mn: str, args: list[Any], kw: dict[str, Any]) -> float:
    return r.leaf(f"{mn}:residual_sd", lambda: math.sqrt(m.residual_var()))


def _icc(r: _Run, m: ModelView, mn: str, args: list[Any], kw: dict[str, Any]) -> float:
    """Intercept-only ICC = var(group) / (var(group) + residual variance), from printed values."""
    groups = m.groups()
    group = str(args[0]) if args else next(iter(groups))
    v_g = _varcorr(r, m, mn, [group, "(Intercept)", "var"], {})
    v_r = _residual_var(r, m, mn, [], {})
    return v_g / (v_g + v_r)


def _contrast(r: _Run, m: ModelView, mn: str, args: list[Any], kw: dict[str, Any]) -> float:
    factor, a, b = (str(x) for x in args[:3])
    what = str(args[3]) if len(args) > 3 else "estimate"
    return r.leaf(f"{mn}:contrast:{factor}:{a}:{b}:{what}", lambda: m.contrast(factor, a, b, what))


def _anova(what: str) -> Callable[..., float]:
    def run(r: _Run, m: ModelView, mn: str, args: list[Any], kw: dict[str, Any]) -> float:
        exact = what == "df"
        return r.leaf(
            f"{mn}:anova:{args[0]}:{what}", lambda: m.anova(str(args[0]), what), not exact
        )

    return run


def _scalar(name: str) -> Callable[..., float]:
    def run(r: _Run, m: ModelView, mn: str, args: list[Any], kw: dict[str, Any]) -> float:
        return r.leaf(f"{mn}:{name}", lambda: m.scalar(name), name not in _EXACT_SCALARS)

    return run


_MODEL_FUNCTIONS: dict[str, Callable[..., float]] = {
    "coef": _stat("coef"),
    "se": _stat("se"),
    "tvalue": _stat("tvalue"),
    "pvalue": _stat("pvalue"),
    "predict": _predict,
    "fitted": _fitted,
    "residual": _residual,
    "varcorr": _varcorr,
    "ranef": _ranef,
    "residual_var": _residual_var,
    "residual_sd": _residual_sd,
    "icc": _icc,
    "contrast": _contrast,
    "anova_f": _anova("F"),
    "anova_p": _anova("p"),
    "anova_df": _anova("df"),
    **{
        n: _scalar(n)
        for n in (
            "dispersion_ratio",
            "dispersion_p",
            "observed_zeros",
            "predicted_zeros",
            "zero_ratio",
            "aic",
            "nobs",
            "df_resid",
        )
    },
}
assert set(_MODEL_FUNCTIONS) | set(_MATH) | {"param", "ifelse", "observed"} == set(SIGNATURES)


# ----------------------------------------------------------------------------- rounding


#: Above this many rounded leaves, corners are replaced by a first-order bound.
MAX_CORNER_LEAVES = 6


def rounding_interval(
    expr: Expression,
    ctx: Context,
    digits: int,
    printed: Mapping[str, tuple[str, ...]] | None = None,
) -> tuple[float, tuple[float, float]]:
    """The exact value and the range of values obtained from the leaves as a student sees them.

    ``printed`` maps a leaf's key to its texts in the variant's R output; each leaf ranges
    over :func:`problem_bank.acceptance.leaf_range` (as printed, or rounded to ``digits``).
    With few leaves every corner of the box is evaluated, which is exact for functions
    monotone in each leaf (all of ours); with many, a first-order bound (sum of the
    largest change per leaf) is used, doubled for safety.
    """
    from problem_bank.acceptance import leaf_range

    value, leaves = expr.evaluate_with_leaves(ctx)
    if not _is_number(value):
        raise ExpressionError(f"the answer must be a number, not {_kind(value)}")
    value = float(value)
    seen = printed or {}
    varying: dict[str, tuple[float, float]] = {}
    for k, leaf in leaves.items():
        if leaf.rounded:
            lo_hi = leaf_range(leaf.value, digits, seen.get(k, ()))
            if lo_hi[0] < lo_hi[1]:
                varying[k] = lo_hi
    lo = hi = value
    if not varying:
        return value, (lo, hi)
    keys = list(varying)
    if len(keys) <= MAX_CORNER_LEAVES:
        for corner in itertools.product((0, 1), repeat=len(keys)):
            over = {k: varying[k][c] for k, c in zip(keys, corner, strict=True)}
            v = _safe_value(expr, ctx, over)
            if v is not None:
                lo, hi = min(lo, v), max(hi, v)
        return value, (lo, hi)
    spread = 0.0
    for k in keys:
        changes = [
            abs(x - value)
            for x in (_safe_value(expr, ctx, {k: end}) for end in varying[k])
            if x is not None
        ]
        spread += max(changes, default=0.0)
    return value, (value - 2 * spread, value + 2 * spread)


def _safe_value(expr: Expression, ctx: Context, over: dict[str, float]) -> float | None:
    try:
        v = float(expr.evaluate(ctx, over))
    except (ExpressionError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return v if math.isfinite(v) else None
