"""Numbers in solutions and explanations, written as a statistician would write them.

Before: "846.000" for a count, "+ -0.2784" in sums, an explanation quoting p = 2.00e-19
where the output prints <2e-16 (and p = 1.2e-10 where performance prints "< 0.001"),
and "-20 redraws" / "1 redraws" in self-test summaries.
"""

from __future__ import annotations

import functools
import re

import pytest

import problem_bank as pb
from problem_bank.render import format_number, plural, render, signif
from problem_bank.self_test import SeedResult, SelfTestReport
from problem_bank.variant import Variant
from tests.problem_bank.test_expressions import Ctx

SEEDS = range(12)


@functools.cache
def _variants(problem: str) -> tuple[Variant, ...]:
    spec = pb.builtin_problems()[problem]
    return tuple(pb.generate(spec, seed) for seed in SEEDS)


def _texts(v: Variant) -> list[str]:
    return [v.story] + [t for p in v.parts for t in (p.prompt, p.solution, p.explanation)]


def test_whole_numbers_show_no_decimals_at_any_significant_digits():
    assert format_number(846, "6") == "846"
    assert format_number(846.0, "3") == "846"
    assert format_number(12345, "3") == "12300"
    assert format_number(-20, "4") == "-20"
    assert format_number(2.4998, "3") == "2.50"  # a measured value keeps its digits
    assert format_number(3, "2f") == "3.00"  # decimals asked for are decimals given


@pytest.mark.parametrize(
    ("text", "values", "want"),
    [
        ("{a} + {b}", {"a": 1.5, "b": -0.2784}, "1.5 − 0.2784"),
        ("{a} − {b}", {"a": 1.5, "b": -0.25}, "1.5 + 0.25"),
        ("{a} - {b}", {"a": 1.5, "b": -0.25}, "1.5 + 0.25"),
        ("{a} + {b} × {c}", {"a": 1.5, "b": 0.5, "c": -2.0}, "1.5 + 0.5 × (-2)"),
        ("exp({c} × {b})", {"b": -0.05, "c": 10}, "exp(10 × (-0.05))"),
        ("{b} + {a}", {"a": 1.5, "b": -0.25}, "-0.25 + 1.5"),  # a leading sign stays
        ("pre-{b}", {"b": -0.25}, "pre--0.25"),  # not an operator: untouched
        ("{a} + {b}", {"a": 1.5, "b": 0.25}, "1.5 + 0.25"),
    ],
)
def test_a_negative_term_flips_its_operator(text, values, want):
    assert render(text, Ctx(values)) == want


@pytest.mark.parametrize("problem", sorted(pb.builtin_problems()))
def test_no_builtin_text_adds_a_negative_or_pads_a_count(problem):
    for v in _variants(problem):
        for text in _texts(v):
            assert not re.search(r"[+\-−×*/] -\d", text), (v.seed, text)
            assert "= <" not in text and " <2e" not in text, (v.seed, text)
        for part in v.parts:
            if part.kind == "numeric" and isinstance(part.answer, int) and part.solution:
                assert re.search(rf"(?<![\d.]){part.answer}(?![\d]|\.\d)", part.solution)


def _slope_p_row(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("Foodavailability"))


def test_an_explanation_quotes_the_p_value_as_summary_prints_it():
    tiny = 0
    for v in _variants("simple_regression"):
        (part,) = [p for p in v.parts if "p-value" in p.explanation]
        quoted = re.search(r"p-value of the slope is (.+)\.$", part.explanation).group(1)
        printed = re.search(r"(<\s?2e-16|\S+)(\s+[*.]+)?\s*$", _slope_p_row(v.output)).group(1)
        if printed.startswith("<"):
            tiny += 1
            assert quoted == "< 2e-16"
        else:
            assert float(quoted) == signif(float(printed), 3), (v.seed, quoted, printed)
    assert tiny, "no seed with p below 2e-16: pick more seeds"


def test_an_anova_and_a_dispersion_p_are_quoted_as_their_outputs_print_them():
    for v in _variants("interaction_dose"):
        (part,) = [p for p in v.parts if "interaction F test" in p.explanation]
        quoted = re.search(r"has p = (\S+)\.$", part.explanation).group(1)
        row = next(line for line in v.output.splitlines() if line.startswith("IC:Dose "))
        # The anova column may show more digits (formatted with its neighbours); the quote
        # is that number to printCoefmat's 4 significant digits, never another number.
        assert float(quoted) == signif(float(re.findall(r"\d\S*", row)[-1]), 4)
    small = 0
    for v in _variants("poisson_zeros"):
        printed = re.search(r"p-value = +(< 0\.001|\S+)", v.output).group(1)
        for part in v.parts:
            if "dispersion test" in part.explanation:
                want = "p < 0.001" if printed == "< 0.001" else f"p = {printed}"
                small += printed == "< 0.001"
                assert want in part.explanation, (v.seed, part.explanation, printed)
    assert small


def test_plural_and_self_test_summaries():
    assert plural(1, "point") == "1 point" and plural(2.5, "point") == "2.5 points"
    assert plural("1", "point") == "1 point" and plural(0, "redraw") == "0 redraws"
    report = SelfTestReport("p", 1)
    report.results += [SeedResult(0, ["cannot be generated"], -1, 0.1)] * 20
    report.results.append(SeedResult(20, [], 1, 0.1))
    head = report.summary().splitlines()[0]
    assert "1/21 seeds passed, 1 redraw," in head and "-" not in head.split(":")[1]
    assert (
        "1/1 seed passed, 0 redraws" in SelfTestReport("q", 1, [SeedResult(0, [], 0, 0)]).summary()
    )
