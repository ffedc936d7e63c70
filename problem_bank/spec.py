"""The declarative problem spec: schema (pydantic, extra fields forbidden) and its checks.

A spec is data, never code. :func:`parse_spec` loads YAML safely, validates the shape with
pydantic, then checks meaning: every expression is inside the vocabulary, every
coefficient, factor level, model and parameter it names exists. Every failure is a
:class:`SpecError` whose message starts with the line and the field.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from problem_bank import expressions as ex
from problem_bank.error_text import (
    CHOICE_ID_PATTERN,
    ID_PATTERN,
    PLACEHOLDER_FIRST_MESSAGE,
    R_NAME_PATTERN,
    TAB_MESSAGE,
    UNCLOSED_QUOTE_MESSAGE,
    number_trap,
    placeholder_first_line,
    plain_message,
    tab_line,
    text_trap,
    unclosed_quote_line,
)
from problem_bank.families import DGP_FAMILY_NAMES, FAMILY_NAMES, any_of, family, offering
from problem_bank.formula import Formula, FormulaError, parse_formula
from problem_bank.kinds import PartKind, kind_of
from problem_bank.placeholders import format_error, placeholders, python_format_error
from problem_bank.plots import plot_problems  # matplotlib is imported when a plot is drawn
from problem_bank.yaml_lines import Loc, YamlError, line_for, load_with_source

M = TypeVar("M", bound=BaseModel)


class SpecError(ValueError):
    """A spec is invalid. ``line`` and ``field`` say where; ``str()`` is one line."""

    def __init__(self, message: str, line: int | None = None, field: str = "") -> None:
        where = f"line {line}" if line is not None else "spec"
        text = f"{where}: {field}: {message}" if field else f"{where}: {message}"
        super().__init__(text)
        self.line = line
        self.field = field
        self.reason = str(message)  # a plain str, not the InText that located it


# -- size limits ------------------------------------------------------------------------
# Every size knob of a spec is bounded, so a spec that passes parse_spec costs bounded time
# and memory to generate (and the preview/self-test time budget is a second line of
# defence). Each limit is several times what the built-in problems use; docs/authoring.md
# lists them.

#: Rows of a dataset (``n``, or groups x size): the largest built-in draws 900.
MAX_ROWS = 5_000
#: Groups of a mixed model (built-ins: up to 20).
MAX_GROUPS = 200
#: Levels of one factor (built-ins: up to 4).
MAX_LEVELS = 50
#: Predictors in the data (built-ins: up to 3).
MAX_PREDICTORS = 20
#: Coefficients of one model with its factor levels expanded (built-ins: up to 8).
MAX_COEFFICIENTS = 100
#: Parts of a problem, misconceptions of a part, params, models, outputs, require items.
MAX_PARTS = 50
MAX_MISCONCEPTIONS = 20
MAX_PARAMS = 50
MAX_MODELS = 10
MAX_OUTPUTS = 20
MAX_REQUIRE = 20
#: Choices of a choice part, rows and columns of a table part.
MAX_CHOICES = 26
MAX_TABLE_SIDE = 20
#: Characters of a formula, and of the short texts a spec gives (levels, labels, names).
MAX_FORMULA_CHARS = 300
MAX_NAME_CHARS = 64
#: Largest magnitude of an integer a spec gives (param ranges, choices).
MAX_SPEC_INT = 10**9

_ID = ID_PATTERN
Id = Annotated[str, Field(pattern=_ID, max_length=MAX_NAME_CHARS)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]
Range = float | tuple[float, float]
IntRange = int | tuple[int, int]
Rows = Annotated[int, Field(ge=1, le=MAX_ROWS)]
RowRange = Rows | tuple[Rows, Rows]
Count = Annotated[int, Field(ge=0, le=MAX_ROWS)]
SpecInt = Annotated[int, Field(ge=-MAX_SPEC_INT, le=MAX_SPEC_INT)]
FormulaText = Annotated[str, Field(min_length=1, max_length=MAX_FORMULA_CHARS)]

#: Printers the output section may ask for (implemented in problem_bank.printers).
PRINTERS = (
    "summary_lm",
    "anova_lm",
    "emmeans_pairs",
    "summary_glm",
    "summary_glmmtmb",
    "check_overdispersion",
    "check_zeroinflation",
    "aic_table",
)
#: Names every expression may read besides declared parameters.
BUILTIN_VALUES = frozenset({"n", "n_groups", "answer"})
#: Names a scenario problem may read (filled from the scenario drawn).
SCENARIO_VALUES = frozenset({"named_factor", "scenario_title"})


class Strict(BaseModel):
    """Unknown fields are errors: a typo must not silently drop part of a problem."""

    # No inf or nan anywhere: a range [0, .inf] would draw inf into the data.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _check_range(v: Any) -> Any:
    ranges = v.values() if isinstance(v, dict) else [v]
    for r in ranges:
        if isinstance(r, tuple) and r[0] > r[1]:
            raise ValueError(f"range [{r[0]}, {r[1]}] has low > high")
    return v


def _high(v: int | tuple[int, int]) -> int:
    return v[1] if isinstance(v, tuple) else v


def _low(v: int | tuple[int, int]) -> int:
    return v[0] if isinstance(v, tuple) else v


class NumericPredictor(Strict):
    """A continuous predictor: uniform(low, high) or normal(mean, sd), rounded to decimals.

    ``sequence`` is a design variable, not a draw: low, low + step, low + 2 step, … within
    each group (over all rows without groups), as ``Days`` = 0 to 9 for each subject.
    """

    type: Literal["numeric"]
    dist: Literal["uniform", "normal", "sequence"] = "uniform"
    low: float = 0.0
    high: float = 1.0
    mean: float = 0.0
    sd: float = Field(1.0, gt=0)
    step: float = Field(1.0, gt=0)
    decimals: int = Field(2, ge=0, le=6)

    @model_validator(mode="after")
    def _bounds(self) -> NumericPredictor:
        if self.dist == "uniform" and self.low >= self.high:
            raise ValueError("low must be below high")
        return self


class FactorPredictor(Strict):
    """A factor; the first level is R's reference level. Every level appears in the data."""

    type: Literal["factor"]
    levels: list[Name] = Field(min_length=2, max_length=MAX_LEVELS)
    weights: list[Annotated[float, Field(gt=0)]] | None = None

    @model_validator(mode="after")
    def _weights(self) -> FactorPredictor:
        if len(set(self.levels)) != len(self.levels):
            raise ValueError("levels must be distinct")
        if self.weights is not None and len(self.weights) != len(self.levels):
            raise ValueError("weights needs one number per level")
        return self


Predictor = Annotated[NumericPredictor | FactorPredictor, Field(discriminator="type")]


class GroupSpec(Strict):
    """Grouping structure of a mixed model: how many groups, their size, random-effect SDs."""

    name: str = Field(pattern=R_NAME_PATTERN, max_length=MAX_NAME_CHARS)
    n_groups: (
        Annotated[int, Field(ge=1, le=MAX_GROUPS)]
        | tuple[
            Annotated[int, Field(ge=1, le=MAX_GROUPS)], Annotated[int, Field(ge=1, le=MAX_GROUPS)]
        ]
    )
    size: RowRange
    #: SD of each random term, keyed "(Intercept)" or a slope variable.
    sd: dict[str, Range] = Field(min_length=1, max_length=4)
    #: Correlation of random intercept and slope.
    cor: (
        Annotated[float, Field(ge=-1, le=1)]
        | tuple[Annotated[float, Field(ge=-1, le=1)], Annotated[float, Field(ge=-1, le=1)]]
    ) = 0.0
    #: Group labels are prefix + letter (A, B, ...) or prefix + number when more than 26.
    prefix: str = Field("", max_length=MAX_NAME_CHARS)

    _r = field_validator("n_groups", "size", "cor")(_check_range)

    @model_validator(mode="after")
    def _rows(self) -> GroupSpec:
        most = _high(self.n_groups) * _high(self.size)
        if most > MAX_ROWS:
            raise ValueError(
                f"up to {most:,} rows (n_groups x size); at most {MAX_ROWS:,} are allowed"
            )
        return self


class DgpSpec(Strict):
    """The data-generating process."""

    formula: FormulaText
    n: RowRange | None = None
    predictors: dict[str, Predictor] = Field(max_length=MAX_PREDICTORS)
    coefficients: dict[str, Range] = Field(max_length=MAX_COEFFICIENTS)
    family: Literal[DGP_FAMILY_NAMES] = "gaussian"  # type: ignore[valid-type]
    sigma: Range | None = None
    theta: Range | None = None
    zero_prob: Range | None = None
    groups: GroupSpec | None = None
    #: Number of missing values (written NA) per column.
    missing: dict[str, Count | tuple[Count, Count]] = Field(default_factory=dict)
    response_decimals: int = Field(3, ge=0, le=8)

    _r = field_validator("n", "sigma", "theta", "zero_prob", "missing")(_check_range)

    @model_validator(mode="after")
    def _family_needs(self) -> DgpSpec:
        for need in family(self.family).dgp_parameters:
            if getattr(self, need) is None:
                raise ValueError(f"family {self.family} needs {need}")
        if self.groups is None and self.n is None:
            raise ValueError("n is required without groups")
        return self


class ModelSpec(Strict):
    """A model fitted to the variant's data. ``main`` is the one printed and asked about."""

    family: Literal[FAMILY_NAMES] = "gaussian"  # type: ignore[valid-type]
    formula: FormulaText
    #: Mixed models: True for REML (glmmTMB's default is ML: REML=FALSE).
    reml: bool = False


class OutputSpec(Strict):
    """One block of printed R output."""

    printer: Literal[PRINTERS]  # type: ignore[valid-type]
    model: str = "main"
    factor: str | None = None
    #: aic_table: the models compared, in the order R's ``AIC(...)`` lists them.
    models: list[str] = Field(default_factory=list, max_length=MAX_MODELS)


class ParamSpec(Strict):
    """A value drawn per variant and used in the story and questions (exactly one source)."""

    uniform: tuple[float, float] | None = None
    integer: tuple[SpecInt, SpecInt] | None = None
    choice: list[Name | float] | None = Field(None, max_length=100)
    #: A random level of this factor (or of the grouping factor).
    level_of: str | None = None
    exclude: list[str] = Field(default_factory=list, max_length=MAX_LEVELS)
    #: A random row number (1-based, as R's ``dat[row, ]``) among the rows this model is
    #: fitted to (no missing value in its variables).
    row_of: str | None = None
    decimals: int = Field(1, ge=0, le=6)

    _r = field_validator("uniform", "integer")(_check_range)

    @model_validator(mode="after")
    def _one_source(self) -> ParamSpec:
        sources = ("uniform", "integer", "choice", "level_of", "row_of")
        given = [k for k in sources if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("give exactly one of uniform, integer, choice, level_of, row_of")
        return self


class ChoiceSpec(Strict):
    id: str = Field(pattern=CHOICE_ID_PATTERN, max_length=MAX_NAME_CHARS)
    label: str
    #: Shown to a student who picked this option and is wrong: why it is not right, without
    #: naming the right one (a misconception for the option takes precedence).
    explanation: str = ""


class MisconceptionSpec(Strict):
    """A known wrong answer: an expression (numeric parts) or a choice (choice parts)."""

    id: Id
    expression: str | list[str] | list[list[str]] | None = None
    choice: str | list[str] | None = None
    message: str = Field(min_length=1)
    #: Only in variants where this condition holds (e.g. ``method == "ML"``).
    when: str | None = None

    @model_validator(mode="after")
    def _one(self) -> MisconceptionSpec:
        if (self.expression is None) == (self.choice is None):
            raise ValueError("give exactly one of expression, choice")
        return self


class PartSpec(Strict):
    """One question part. ``answer`` is an expression (numeric), a choice id or expression
    giving one (choice), a list of those (multi), or a matrix of expressions (table)."""

    id: Id
    kind: PartKind
    prompt: str = Field(min_length=1)
    answer: str | float | list[str] | list[list[str]] | None = None
    digits: int = Field(3, ge=1, le=8)
    rtol: float = Field(0.0, ge=0)
    atol: float = Field(0.0, ge=0)
    percent_allowed: bool = False
    partial_credit: bool = False
    choices: list[ChoiceSpec] = Field(default_factory=list, max_length=MAX_CHOICES)
    #: Scenario problems: take choices, answer and explanation from this scenario question.
    choices_from: str | None = None
    explanation: str = ""
    hint: str = ""
    solution: str = ""
    weight: float = Field(1.0, gt=0)
    format_hint: str = ""
    rows: list[str] = Field(default_factory=list, max_length=MAX_TABLE_SIDE)
    columns: list[str] = Field(default_factory=list, max_length=MAX_TABLE_SIDE)
    misconceptions: list[MisconceptionSpec] = Field(
        default_factory=list, max_length=MAX_MISCONCEPTIONS
    )

    @model_validator(mode="after")
    def _shape(self) -> PartSpec:
        if self.answer is None and self.choices_from is None:
            raise ValueError("answer is required")
        if problem := kind_of(self.kind).spec_shape(self):
            raise ValueError(problem)
        ids = [m.id for m in self.misconceptions]
        if len(set(ids)) != len(ids):
            raise ValueError("misconception ids must be distinct")
        return self


class ScenarioUse(Strict):
    """Scenario problems draw one scenario from ``problem_bank/scenarios``."""

    library: str = "which_random"


class ProblemSpec(Strict):
    """A whole problem."""

    id: Id
    title: str = Field(min_length=1)
    version: int = Field(ge=1)
    topic: str = Field(min_length=1)
    story: str = Field(min_length=1)
    #: Name of the data frame in the R call (``data = cod``), as R prints it in the output.
    data_name: str = Field("dat", pattern=R_NAME_PATTERN)
    dgp: DgpSpec | None = None
    models: dict[str, ModelSpec] = Field(default_factory=dict, max_length=MAX_MODELS)
    output: list[OutputSpec] = Field(default_factory=list, max_length=MAX_OUTPUTS)
    plot: str | None = None
    params: dict[str, ParamSpec] = Field(default_factory=dict, max_length=MAX_PARAMS)
    scenarios: ScenarioUse | None = None
    #: Conditions (expressions) a draw must meet, else it is redrawn: keeps questions well posed.
    require: list[str] = Field(default_factory=list, max_length=MAX_REQUIRE)
    parts: list[PartSpec] = Field(min_length=1, max_length=MAX_PARTS)

    @field_validator("output", mode="before")
    @classmethod
    def _output_shorthand(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [{"printer": o} if isinstance(o, str) else o for o in v]
        return v

    @model_validator(mode="after")
    def _structure(self) -> ProblemSpec:
        if self.dgp is not None and "main" not in self.models:
            raise ValueError("models needs a `main` model when there is a dgp")
        if self.dgp is None and self.scenarios is None:
            raise ValueError("give a dgp (data problems) or scenarios (conceptual problems)")
        ids = [p.id for p in self.parts]
        if len(set(ids)) != len(ids):
            raise ValueError("part ids must be distinct")
        return self

    # -- derived, used by generation -------------------------------------------------
    def factor_levels(self) -> dict[str, list[str]]:
        """Levels of every factor predictor (first level = reference)."""
        if self.dgp is None:
            return {}
        return {
            k: list(p.levels)
            for k, p in self.dgp.predictors.items()
            if isinstance(p, FactorPredictor)
        }

    def formula(self, model: str = "main") -> Formula:
        return parse_formula(self.models[model].formula)


# ------------------------------------------------------------------------------- parsing


def parse_spec(text: str) -> ProblemSpec:
    """Validate a YAML spec; the first problem raises :class:`SpecError` naming line and field.

    :func:`check_text` finds every problem (``problem_bank.diagnostics`` shows them all).
    """
    checked = check_text(text)
    if checked.errors:
        raise checked.errors[0]
    assert checked.spec is not None
    return checked.spec


@dataclass
class Checked:
    """Every problem of a spec's text, and the spec when its shape is valid.

    ``spec`` is also set when the only shape errors are YAML 1.1 traps (``id: yes``): it
    is then the spec as written (``id: "yes"``), so its meaning can be checked too and the
    author sees every error at once. It is valid only when ``errors`` is empty.
    ``meaning`` are the errors of the meaning checks (a subset of ``errors``): with
    ``spec``, the only ones that touch what a variant is drawn from.
    """

    spec: ProblemSpec | None
    errors: list[SpecError]
    lines: dict[Loc, int]
    meaning: list[SpecError] = dataclasses.field(default_factory=list)


def check_text(text: str) -> Checked:
    """Every error of a spec: the YAML, then each shape error, then each meaning error."""
    try:
        data, lines, plain = load_with_source(text)
    except YamlError as exc:
        error = _yaml_error(text, exc)
        spaced = _tabs_as_spaces(text) if error.reason == TAB_MESSAGE else None
        if spaced is None:
            return Checked(None, [error], {})
        # The rest of the round, read with the tab as the spaces it stands for, so the
        # author sees every other error now and not after fixing the tab.
        rest = check_text(spaced)
        return dataclasses.replace(rest, errors=[error, *rest.errors])
    if not isinstance(data, dict):
        error = SpecError("the spec must be a mapping of fields", line_for(lines, ()))
        return Checked(None, [error], lines)
    spec, errors = _validate(ProblemSpec, data, lines, plain)
    if spec is None and errors:
        spec = _as_written(data, errors, plain)
    meaning = [
        SpecError(message, _line_of(message, loc, lines, text), dotted(loc))
        for loc, message in (_semantic_errors(spec) if spec is not None else ())
    ]
    errors.extend(meaning)
    errors.extend(_number_traps(data, lines, plain, {e.field for e in errors}))
    return Checked(spec, errors, lines, meaning)


def _tabs_as_spaces(text: str) -> str | None:
    """``text`` with each tab of the indentation read as the spaces it most likely stands
    for (the indentation step the other lines use, else 2, 4 or 8), the first that YAML
    can read; None when none can. The line numbers stay the same."""
    lines = text.split("\n")
    indents = [len(s) - len(s.lstrip(" ")) for s in lines if s.strip() and s[:1] == " "]
    step = min((n for n in indents if n > 0), default=2)
    for width in dict.fromkeys((step, 2, 4, 8)):
        spaced = "\n".join(_indent_tabs(line, width) for line in lines)
        try:
            load_with_source(spaced)
        except YamlError:
            continue
        return spaced
    return None


def _indent_tabs(line: str, width: int) -> str:
    body = line.lstrip(" \t")
    indent = line[: len(line) - len(body)]
    return indent.replace("\t", " " * width) + body if "\t" in indent else line


class InText(str):
    """An error message about a placeholder, with the placeholder as written: its line in a
    text of several lines (a story under ``story: |``) is where the editor should jump."""

    placeholder: str

    def __new__(cls, message: str, placeholder: str) -> InText:
        self = super().__new__(cls, message)
        self.placeholder = placeholder
        return self


def _line_of(message: str, loc: Loc, lines: dict[Loc, int], text: str) -> int | None:
    """The line of an error: its field's, or within the field's text the first line that
    holds the placeholder the message is about (up to the next value written)."""
    line = line_for(lines, loc)
    if not isinstance(message, InText) or line is None or "\n" in message.placeholder:
        return line
    end = min((n for n in lines.values() if n > line), default=None)
    source = text.splitlines()[line - 1 : end]
    found = next((i for i, s in enumerate(source) if message.placeholder in s), 0)
    return line + found


def validate_yaml(model: type[M], text: str) -> tuple[M, dict[Loc, int]]:
    """Load YAML safely and validate it as ``model``; the first error as :class:`SpecError`."""
    try:
        data, lines, plain = load_with_source(text)
    except YamlError as exc:
        raise _yaml_error(text, exc) from None
    if not isinstance(data, dict):
        raise SpecError("the spec must be a mapping of fields", line_for(lines, ()))
    obj, errors = _validate(model, data, lines, plain)
    if obj is None:
        raise errors[0]
    return obj, lines


def _yaml_error(text: str, exc: YamlError) -> SpecError:
    """A loader error; a tab in the indentation, a quote never closed or a value that
    starts with a placeholder is named as the cause, at its own line."""
    if exc.loc is None and str(exc).startswith("not valid YAML"):
        if (line := tab_line(text)) is not None:
            return SpecError(TAB_MESSAGE, line)
        if placeholder_first_line(text, exc.line):
            return SpecError(PLACEHOLDER_FIRST_MESSAGE, exc.line)
        if (line := unclosed_quote_line(text, exc.line)) is not None:
            return SpecError(UNCLOSED_QUOTE_MESSAGE, line)
    return SpecError(str(exc), exc.line, dotted(exc.loc or ()))


def _validate(
    model: type[M], data: dict[str, Any], lines: dict[Loc, int], plain: dict[Loc, str]
) -> tuple[M | None, list[SpecError]]:
    """The validated model, or None and one error per place the data is wrong."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [
            SpecError(
                plain_message(err, loc, plain.get(loc), _fields_at(model, loc[:-1], data)),
                line_for(lines, loc),
                dotted(loc),
            )
            for err, loc in _most_specific(exc.errors(), data)
        ]


def _fields_at(model: type[BaseModel], loc: Loc, data: Any) -> list[str]:
    """The fields the mapping at ``loc`` may have (for "unknown field"), [] if unknown."""
    tp: Any = model
    for key in loc:
        tp = _member(tp, data)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field_info = tp.model_fields.get(key) if isinstance(key, str) else None
            if field_info is None:
                return []
            tp = field_info.annotation
        elif get_origin(tp) in (list, dict) and get_args(tp):
            tp = get_args(tp)[-1]  # list[X] and dict[str, X]: X
        else:
            return []
        data = data[key]
    tp = _member(tp, data)
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _member(tp: Any, data: Any) -> Any:
    """The type of ``tp`` that ``data`` is written as: Annotated unwrapped, the mapping
    member of a union (a tagged union's by its ``type``)."""
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if get_origin(tp) not in (Union, UnionType):
        return tp
    models = [
        t
        for t in (_member(a, data) for a in get_args(tp))
        if isinstance(t, type) and issubclass(t, BaseModel)
    ]
    tagged = [m for m in models if isinstance(data, dict) and _tag_fits(m, data.get("type"))]
    return next(iter(tagged or models), None)


def _tag_fits(model: type[BaseModel], tag: Any) -> bool:
    field_info = model.model_fields.get("type")
    return field_info is not None and tag in get_args(field_info.annotation)


def _as_written(
    data: dict[str, Any], errors: list[SpecError], plain: dict[Loc, str]
) -> ProblemSpec | None:
    """The spec with every YAML 1.1 trap read as the text written (``yes`` as "yes"), if
    that is all that is wrong with its shape; else None."""
    by_field = {dotted(loc): loc for loc in plain}
    fixed = copy.deepcopy(data)
    for error in errors:
        loc = by_field.get(error.field)
        if loc is None or text_trap(plain[loc], _value_at(data, loc), loc) is None:
            return None
        _value_at(fixed, loc[:-1])[loc[-1]] = plain[loc]
    try:
        return ProblemSpec.model_validate(fixed)
    except ValidationError:
        return None


def _number_traps(
    data: Any, lines: dict[Loc, int], plain: dict[Loc, str], reported: set[str]
) -> Iterator[SpecError]:
    """Numbers YAML 1.1 read other than as written (``010`` is 8), where no error is yet."""
    for loc, raw in plain.items():
        if dotted(loc) in reported:
            continue
        if message := number_trap(raw, _value_at(data, loc)):
            yield SpecError(message, line_for(lines, loc), dotted(loc))


def _value_at(data: Any, loc: Loc) -> Any:
    for key in loc:
        data = data[key]
    return data


def _most_specific(errors: list[Any], data: Any) -> list[tuple[Any, Loc]]:
    """One error per place: the first there, or a deeper one at the same place. For
    ``n: [30, 80000]`` that is the tuple's "less than or equal to 5000", not the int
    branch's "not a valid integer"; a union's other branches are the same place."""
    places: list[tuple[Loc, Any, Loc]] = []  # (place, best error, its location)
    for err in errors:
        loc = _yaml_loc(err["loc"], data)
        for i, (place, best, best_loc) in enumerate(places):
            if loc[: len(place)] == place or place[: len(loc)] == loc:
                if len(loc) > len(best_loc):
                    best, best_loc = err, loc
                places[i] = (min(place, loc, key=len), best, best_loc)
                break
        else:
            places.append((loc, err, loc))
    return [(best, best_loc) for _place, best, best_loc in places]


_UNION_TAGS = frozenset({"numeric", "factor", "str", "float", "int", "bool"})


def _yaml_loc(loc: tuple[Any, ...], data: Any) -> Loc:
    """pydantic's loc without its union/tag labels (they are not keys in the YAML)."""
    out: list[str | int] = []
    node = data
    for key in loc:
        in_dict = isinstance(node, dict) and key in node
        in_list = isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)
        if in_dict or in_list:
            node = node[key]
            out.append(key)
        elif (
            isinstance(node, dict)
            and isinstance(key, str)
            and re.match(r"^[A-Za-z_]\w*$", key)
            and key not in _UNION_TAGS
        ):
            out.append(key)  # a missing or unknown field: the line of its parent
            break
    return tuple(out)


def dotted(loc: Loc) -> str:
    """``("parts", 2, "answer")`` as ``parts[2].answer``, the field a :class:`SpecError` names."""
    text = ""
    for k in loc:
        text += f"[{k}]" if isinstance(k, int) else (f".{k}" if text else str(k))
    return text


# ------------------------------------------------------------------------------ meaning


def _semantic_errors(spec: ProblemSpec) -> Iterator[tuple[Loc, str]]:
    """Meaning checks pydantic cannot do: formulas, names, levels, expressions."""
    levels = spec.factor_levels()
    formulas: dict[str, Formula] = {}
    for name, model in spec.models.items():
        try:
            formulas[name] = parse_formula(model.formula)
        except FormulaError as exc:
            yield ("models", name, "formula"), str(exc)
            return
        if msg := _too_many_coefficients(formulas[name], levels):
            yield ("models", name, "formula"), msg
            return
        if formulas[name].random and family(model.family).mixed_fitter is None:
            mixed = any_of(n for n in FAMILY_NAMES if family(n).mixed_fitter is not None)
            yield (
                ("models", name, "formula"),
                (
                    f"random effects need family {mixed}: a {model.family} model with random "
                    "effects is not one the reference fits can fit"
                ),
            )
            return
    group_name = None
    if spec.dgp is not None:
        yield from _dgp_errors(spec.dgp, levels)
        try:
            dgp_formula = parse_formula(spec.dgp.formula)
        except FormulaError as exc:
            yield ("dgp", "formula"), str(exc)
            return
        group_name = spec.dgp.groups.name if spec.dgp.groups else None
        known = set(spec.dgp.predictors) | {dgp_formula.response}
        if group_name:
            known.add(group_name)
        for name, f in formulas.items():
            for var in (*f.variables, f.response, *(r.group for r in f.random)):
                if var not in known:
                    yield ("models", name, "formula"), f"{var!r} is not a column of the data"
                    return
    values = set(spec.params) | BUILTIN_VALUES
    if spec.scenarios is not None:
        values |= SCENARIO_VALUES
    for name, p in spec.params.items():
        if p.level_of is not None:
            if p.level_of not in levels and p.level_of != group_name:
                yield ("params", name, "level_of"), f"{p.level_of!r} is not a factor of the data"
            for lvl in p.exclude:
                if p.level_of in levels and lvl not in levels[p.level_of]:
                    yield ("params", name, "exclude"), f"level {lvl!r} is not in {p.level_of}"
        if p.row_of is not None and p.row_of not in spec.models:
            message = f"no model named {p.row_of!r}; declare it under models"
            yield ("params", name, "row_of"), message
    for i, out in enumerate(spec.output):
        if out.model not in spec.models:
            yield ("output", i, "model"), f"no model named {out.model!r}"
        yield from _output_model_errors(spec, i, out)
        if out.printer == "emmeans_pairs" and out.factor not in levels:
            yield ("output", i, "factor"), "emmeans_pairs needs `factor`: a factor of the data"
    if spec.plot is not None:
        for message in plot_problems(spec):
            yield ("plot",), message
    checker = _ExpressionChecker(spec, formulas, levels, values, group_name)
    yield from checker.text(("story",), spec.story)
    for i, cond in enumerate(spec.require):
        yield from checker.expr(("require", i), cond)
    for i, part in enumerate(spec.parts):
        yield from _part_errors(part, ("parts", i), checker)


#: What an output block's model must offer (``problem_bank.families``) for the printer to
#: print it: the printer itself, and for the AIC table the AIC of every model compared.
PRINTER_NEEDS = {printer: printer for printer in PRINTERS} | {"aic_table": "aic"}


def _offers(spec: ProblemSpec, model: str, capability: str) -> bool:
    return capability in family(spec.models[model].family).offers_for(_mixed(spec, model))


def _mixed(spec: ProblemSpec, model: str) -> bool:
    return bool(parse_formula(spec.models[model].formula).random)


def _needs_message(what: str, capability: str, mixed: bool) -> str:
    """``summary_glm needs a binomial or poisson model``, saying which is wrong: the family,
    or random effects where the printer or function takes none (or the other way round)."""
    fixed, with_random = offering(capability, mixed=False), offering(capability, mixed=True)
    if not fixed:
        return f"{what} needs a {any_of(with_random)} model with random effects"
    if not with_random:
        return f"{what} needs a {any_of(fixed)} model" + (
            " without random effects" if mixed else ""
        )
    return (
        f"{what} needs a {any_of(fixed)} model without random effects, or a "
        f"{any_of(with_random)} model with them"
    )


def _output_model_errors(spec: ProblemSpec, i: int, out: OutputSpec) -> Iterator[tuple[Loc, str]]:
    need = PRINTER_NEEDS[out.printer]
    if out.printer == "aic_table":
        if len(out.models) < 2:
            yield ("output", i, "models"), "aic_table compares at least two models"
        for name in out.models:
            if name not in spec.models:
                yield ("output", i, "models"), f"no model named {name!r}"
            elif not _offers(spec, name, need):
                message = _needs_message(f"aic_table: {name}", need, _mixed(spec, name))
                yield ("output", i, "models"), message
        return
    if out.models:
        yield ("output", i, "models"), "only aic_table takes `models`"
    if out.model in spec.models and not _offers(spec, out.model, need):
        yield ("output", i, "model"), _needs_message(out.printer, need, _mixed(spec, out.model))


def _too_many_coefficients(f: Formula, levels: dict[str, list[str]]) -> str | None:
    """Counted, not listed: ``A*B*C*D`` with 50 levels each would list 5.7 million names."""
    count = int(f.intercept)
    for term, coding in zip(f.terms, f.codings(), strict=True):
        width = 1
        for var, contrast in zip(term, coding, strict=True):
            if var in levels:
                width *= max(len(levels[var]) - 1, 1) if contrast else len(levels[var])
        count += width
    if count > MAX_COEFFICIENTS:
        return f"{count:,} coefficients with these factor levels; at most {MAX_COEFFICIENTS}"
    return None


def _dgp_errors(dgp: DgpSpec, levels: dict[str, list[str]]) -> Iterator[tuple[Loc, str]]:
    try:
        f = parse_formula(dgp.formula)
    except FormulaError as exc:
        yield ("dgp", "formula"), str(exc)
        return
    for var in f.variables:
        if var not in dgp.predictors:
            yield ("dgp", "formula"), f"{var!r} is not among the predictors"
            return
    if msg := _too_many_coefficients(f, levels):
        yield ("dgp", "formula"), msg
        return
    names = set(f.coef_names(levels))
    for coef in dgp.coefficients:
        if coef not in names:
            yield (
                ("dgp", "coefficients", coef),
                (
                    f"{coef!r} is not a coefficient of {dgp.formula!r}; "
                    f"valid: {', '.join(sorted(names))}"
                ),
            )
    for col in dgp.missing:
        if col not in dgp.predictors and col != f.response:
            yield ("dgp", "missing", col), f"{col!r} is not a column of the data"
    if dgp.groups is not None:
        for term in dgp.groups.sd:
            if term != "(Intercept)" and term not in dgp.predictors:
                yield ("dgp", "groups", "sd", term), f"{term!r} is not a predictor"


def _part_errors(
    part: PartSpec, loc: Loc, checker: _ExpressionChecker
) -> Iterator[tuple[Loc, str]]:
    for field in ("prompt", "hint", "solution", "explanation", "format_hint"):
        yield from checker.text((*loc, field), getattr(part, field))
    for j, c in enumerate(part.choices):
        yield from checker.text((*loc, "choices", j, "explanation"), c.explanation)
    choice_ids = {c.id for c in part.choices}
    kind = kind_of(part.kind)
    if part.answer is not None:
        yield from kind.answer_errors(part.answer, (*loc, "answer"), checker, choice_ids)
    for j, m in enumerate(part.misconceptions):
        mloc = (*loc, "misconceptions", j)
        yield from checker.text((*mloc, "message"), m.message)
        if m.when is not None:
            yield from checker.expr((*mloc, "when"), m.when)
        if m.expression is not None:
            yield from kind.answer_errors(m.expression, (*mloc, "expression"), checker, choice_ids)
        if m.choice is not None and part.choices_from is None:
            picks = [m.choice] if isinstance(m.choice, str) else m.choice
            for pick in picks:
                if pick not in choice_ids:
                    yield (*mloc, "choice"), f"{pick!r} is not one of the part's choices"


def _short(text: str, most: int = 60) -> str:
    """A long placeholder, cut for quoting in a one-line error."""
    return text if len(text) <= most else text[: most - 3] + "..."


def _parses(source: str) -> bool:
    try:
        ex.parse(source)
    except ex.ExpressionError:
        return False
    return True


class _NoValues:
    """The context of a constant expression: it reads no model and no value."""

    def model(self, name: str) -> ex.ModelView:
        raise ex.ExpressionError(f"no model named {name!r}")

    def value(self, name: str) -> Any:
        raise ex.ExpressionError(f"no value named {name!r}")

    def observed(self, column: str, row: int) -> Any:
        raise ex.ExpressionError("observed() reads the data")


_NO_VALUES = _NoValues()


class _ExpressionChecker:
    """Checks expressions against the vocabulary and against this spec's names."""

    def __init__(
        self,
        spec: ProblemSpec,
        formulas: dict[str, Formula],
        levels: dict[str, list[str]],
        values: set[str],
        group_name: str | None,
    ) -> None:
        self.spec = spec
        self.formulas = formulas
        self.levels = levels
        self.values = values
        self.group_name = group_name

    def text(self, loc: Loc, text: str) -> Iterator[tuple[Loc, str]]:
        for whole, inner, fmt in placeholders(text):
            if fmt is None and (msg := python_format_error(inner)) and not _parses(inner):
                yield loc, InText(f"placeholder {_short(whole)}: {msg}", whole)
                continue
            if fmt is not None and (msg := format_error(fmt)):
                yield loc, InText(f"placeholder {_short(whole)}: {msg}", whole)
            for _l, msg in self.expr(loc, inner):
                yield loc, InText(f"placeholder {_short(whole)}: {msg}", whole)

    def expr(self, loc: Loc, source: str) -> Iterator[tuple[Loc, str]]:
        try:
            parsed = ex.parse(source)
        except ex.ExpressionError as exc:
            yield loc, f"{exc} (in {_short(source)!r})"
            return
        for name in parsed.names:
            if name not in self.values:
                yield (
                    loc,
                    (
                        f"{name!r} is not defined (in {_short(source)!r}): declare it under "
                        f"params, e.g. `{name}: {{uniform: [1, 5]}}`"
                    ),
                )
        for call in parsed.calls:
            msg = self.call(call)
            if msg:
                yield loc, f"{msg} (in {_short(source)!r})"
        if not parsed.names and not any(
            ex.SIGNATURES[c.name].model or c.name in ("param", "observed") for c in parsed.calls
        ):
            try:  # a constant: its value is known now, so is any error (1/0, 9**9**7)
                parsed.evaluate(_NO_VALUES)
            except ex.ExpressionError as exc:
                yield loc, f"{exc} (in {_short(source)!r})"

    def _fewest_rows(self) -> int | None:
        """The fewest rows a variant's data can have (None without data)."""
        dgp = self.spec.dgp
        if dgp is None:
            return None
        if dgp.groups is not None:
            return _low(dgp.groups.n_groups) * _low(dgp.groups.size)
        assert dgp.n is not None  # DgpSpec requires n without groups
        return _low(dgp.n)

    def _row_problem(self, name: str, row: Any, param: str | None = None) -> str | None:
        """A literal row, or every row a parameter can draw, must exist in every variant:
        1 up to the fewest rows drawn (an expression is checked on each variant)."""
        if param is not None and param in self.spec.params:
            p = self.spec.params[param]
            if p.row_of is not None:
                return None
            if p.integer is not None:
                rows: list[Any] = list(p.integer)
            elif p.choice is not None:
                rows = list(p.choice)
            else:
                drawn = "a factor level" if p.level_of else "any number in a range"
                return (
                    f"{name}(): parameter {param} draws {drawn}, not a row number; "
                    "draw rows with {row_of: main} or integer: [low, high]"
                )
            for each in rows:
                if problem := self._row_problem(name, each):
                    return f"{problem} (parameter {param} can draw it)"
            return None
        if row is None:  # an expression: checked on each variant
            return None
        if problem := ex.row_problem(row):
            return f"{name}(): {problem}"
        fewest = self._fewest_rows()
        if fewest is not None and row > fewest:
            return (
                f"{name}(): row {int(row)} does not exist in every variant: the data can have "
                f"as few as {fewest} rows"
            )
        return None

    def _observed_problem(self, call: ex.Call) -> str | None:
        dgp = self.spec.dgp
        if dgp is None:
            return "observed() needs data: this problem has no dgp"
        column = call.args[0]
        columns = [*dgp.predictors, parse_formula(dgp.formula).response]
        if dgp.groups is not None:
            columns.append(dgp.groups.name)
        if isinstance(column, str) and column not in columns:
            have = ", ".join(columns)
            return f"observed(): {column!r} is not a column of the data; columns: {have}"
        return self._row_problem("observed", call.args[1], call.arg_names[1])

    def _level_ok(self, factor: str, value: Any) -> str | None:
        if isinstance(value, str) and value not in self.levels.get(factor, [value]):
            valid = ", ".join(self.levels[factor])
            return f"level {value!r} is not in factor {factor} (levels: {valid})"
        return None

    def call(self, call: ex.Call) -> str | None:
        sig = ex.SIGNATURES[call.name]
        if not sig.model:
            if call.name == "param" and call.args[0] not in self.values:
                return f"param({call.args[0]!r}) is not declared under params"
            if call.name == "observed":
                return self._observed_problem(call)
            return None
        model = call.keywords.get("model", "main")
        if model not in self.formulas:
            return f"no model named {model!r}; declare it under models"
        f = self.formulas[model]
        if sig.needs and not _offers(self.spec, model, sig.needs):
            return _needs_message(f"{call.name}()", sig.needs, bool(f.random))
        if call.name in ("coef", "se", "tvalue", "pvalue"):
            name = call.args[0]
            names = f.coef_names(self.levels)
            if isinstance(name, str) and name not in names:
                return f"{name!r} is not a coefficient of {f.text!r}; valid: {', '.join(names)}"
        elif call.name == "predict":
            for var, value in call.keywords.items():
                if var in ("model", "scale", "group"):
                    continue
                if var not in f.variables:
                    return f"predict(): {var!r} is not a predictor of {f.text!r}"
                if var in self.levels and (msg := self._level_ok(var, value)):
                    return f"predict(): {msg}"
            missing = [v for v in f.variables if v not in call.keywords]
            if missing:
                return f"predict() needs a value for {', '.join(missing)}"
            if "group" in call.keywords and not f.random:
                return "predict(group=...) needs a model with random effects"
        elif call.name in ("fitted", "residual"):
            return self._row_problem(call.name, call.args[0], call.arg_names[0])
        elif call.name in ("varcorr", "ranef"):
            group = call.args[0]
            terms = {r.group: r.names for r in f.random}
            if isinstance(group, str) and group not in terms:
                return f"{call.name}(): {group!r} is not a grouping factor of {f.text!r}"
            term = call.args[-1] if call.name == "ranef" else call.args[1]
            if isinstance(group, str) and isinstance(term, str) and term not in terms[group]:
                return f"{call.name}(): {term!r} is not a random term of {group}"
        elif call.name == "contrast":
            factor = call.args[0]
            if isinstance(factor, str):
                if factor not in self.levels or factor not in f.variables:
                    return f"contrast(): {factor!r} is not a factor of {f.text!r}"
                for lvl in call.args[1:3]:
                    if msg := self._level_ok(factor, lvl):
                        return f"contrast(): {msg}"
        elif call.name.startswith("anova_"):
            term = call.args[0]
            if isinstance(term, str) and term not in f.term_labels:
                known = ", ".join(f.term_labels)
                return f"{call.name}(): {term!r} is not a term of {f.text!r}; terms: {known}"
        return None
