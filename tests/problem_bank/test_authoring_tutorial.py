"""docs/authoring.md, followed literally: its tutorial and its complete examples must work.

Every ``yaml`` block marked ``<!-- spec: NAME -->`` is a whole spec: it must validate,
pass the self-test and generate variants whose parts all have a reference answer that no
misconception matches. Blocks marked ``<!-- fragment: NAME -->`` are the pieces a step
adds; each must be part of the tutorial's final spec, so a step cannot drift from the
whole. The error and output the tutorial quotes, and the YAML traps "Common mistakes"
lists, are checked too. When the docs rot, this fails.
"""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from problem_bank import generate, parse_spec, selftest
from problem_bank.cli import problems
from problem_bank.spec import SpecError
from problem_bank.yaml_lines import load_with_lines

AUTHORING = Path(__file__).resolve().parents[2] / "docs" / "authoring.md"
MARKED = re.compile(r"<!-- (spec|fragment): ([a-z0-9-]+) -->\n+```yaml\n(.*?)^```", re.S | re.M)
SEEDS = (0, 1, 2, 3)


@cache
def docs() -> str:
    return AUTHORING.read_text(encoding="utf-8")


@cache
def blocks(kind: str) -> dict[str, str]:
    """Marked blocks of one kind, by name, in the order the docs give them."""
    out: dict[str, str] = {}
    for found_kind, name, body in MARKED.findall(docs()):
        if found_kind == kind:
            assert name not in out, f"two blocks are marked {name}"
            out[name] = body
    return out


def tutorial_spec() -> str:
    """The tutorial's last whole spec: the problem it builds."""
    names = [n for n in blocks("spec") if n.startswith("tutorial-")]
    return blocks("spec")[names[-1]]


def test_the_docs_mark_the_tutorial_steps_and_the_complete_example() -> None:
    """A marker lost in an edit would silently stop the checks below."""
    assert list(blocks("spec")) == ["tutorial-step-1", "tutorial-step-5", "complete-example"]
    assert list(blocks("fragment")) == [f"tutorial-step-{i}" for i in (2, 3, 4)]
    # Every marker is followed by its block: none is left dangling before prose.
    assert docs().count("<!-- spec: ") == 3 and docs().count("<!-- fragment: ") == 3
    assert "## Your first problem in fifteen minutes" in docs()
    assert "## Common mistakes" in docs()


@pytest.mark.parametrize("name", ["tutorial-step-1", "tutorial-step-5", "complete-example"])
def test_every_whole_spec_validates_and_generates_fair_parts(name: str) -> None:
    spec = parse_spec(blocks("spec")[name])
    report = selftest(spec, seeds=8)
    assert report.ok, report.summary()
    for seed in SEEDS:
        variant = generate(spec, seed)
        assert len(variant.parts) == len(spec.parts)
        for part in variant.parts:
            assert part.answer is not None and part.answer != "", (name, seed, part.id)
            if part.kind == "numeric":
                assert isinstance(part.answer, float) and math.isfinite(part.answer)
                lo, hi = part.acceptance.interval
                for m in part.misconceptions:
                    assert m.answer != part.answer, (name, seed, part.id, m.id)
                    assert not lo <= float(m.answer) <= hi, (name, seed, part.id, m.id)
            else:
                for m in part.misconceptions:
                    assert m.answer != part.answer, (name, seed, part.id, m.id)


def test_the_tutorial_asks_what_it_promises() -> None:
    """A rate ratio, an expected count and a row's residual, with the new row functions."""
    spec = parse_spec(tutorial_spec())
    assert spec.models["main"].family == "poisson"
    answers = {p.id: p.answer for p in spec.parts}
    assert answers["rate_ratio"] == 'exp(coef("Temp"))'
    assert str(answers["expected_count"]).startswith("predict(")
    assert answers["row_residual"] == 'residual(r, "response")'
    assert spec.params["r"].row_of == "main"
    rate = next(p for p in spec.parts if p.id == "rate_ratio")
    assert [(m.id, m.expression) for m in rate.misconceptions] == [("log_scale", 'coef("Temp")')]
    text = tutorial_spec()
    assert "observed(" in text and "fitted(" in text


@pytest.mark.parametrize("seed", [0, 5])
def test_a_student_gets_the_tutorials_messages(seed: int) -> None:
    """Graded as a student would be: the key is right, each misconception's value (as a
    student types it, to the digits asked) gets that misconception's message."""
    from graders import grade  # the tutorial promises what the grader says

    variant = generate(parse_spec(tutorial_spec()), seed)
    for part in variant.parts:
        digits = part.acceptance.digits
        right = next(f for f in grade(variant, {part.id: part.answer}).parts if f.id == part.id)
        assert right.score == 1.0, (seed, part.id)
        for m in part.misconceptions:
            typed = float(f"{float(m.answer):.{digits}g}")
            verdict = next(f for f in grade(variant, {part.id: typed}).parts if f.id == part.id)
            assert (verdict.score, verdict.misconception) == (0.0, m.id), (seed, part.id)
            assert m.message[:30] in verdict.message, (seed, part.id)


def _contained(part: Any, whole: Any, where: str) -> None:
    """``part`` is a piece of ``whole``: its keys with the same values, list items found
    (by ``id`` for mappings that have one)."""
    if isinstance(part, dict):
        assert isinstance(whole, dict), where
        for key, value in part.items():
            assert key in whole, f"{where}.{key} is not in the final spec"
            _contained(value, whole[key], f"{where}.{key}")
    elif isinstance(part, list):
        assert isinstance(whole, list), where
        for item in part:
            if isinstance(item, dict) and "id" in item:
                same = [w for w in whole if isinstance(w, dict) and w.get("id") == item["id"]]
                assert same, f"{where}: no item with id {item['id']!r} in the final spec"
                _contained(item, same[0], f"{where}[{item['id']}]")
            else:
                assert item in whole, f"{where}: {item!r} is not in the final spec"
    else:
        assert part == whole, f"{where}: {part!r} here, {whole!r} in the final spec"


@pytest.mark.parametrize("name", ["tutorial-step-2", "tutorial-step-3", "tutorial-step-4"])
def test_each_step_is_part_of_the_final_spec(name: str) -> None:
    final = yaml.safe_load(tutorial_spec())
    _contained(yaml.safe_load(blocks("fragment")[name]), final, name)


def test_step_one_grows_into_the_final_spec() -> None:
    first = yaml.safe_load(blocks("spec")["tutorial-step-1"])
    final = yaml.safe_load(tutorial_spec())
    _contained(first, final, "step 1")
    assert set(final) - set(first) == {"params"}


def test_the_quoted_error_is_the_one_the_validator_gives() -> None:
    quoted = re.search(r"with `coef\(\"temp\"\)` in the answer it says\n`(.*?)`\.", docs(), re.S)
    assert quoted, "the tutorial's example error is gone"
    broken = blocks("spec")["tutorial-step-1"].replace(
        'answer: exp(coef("Temp"))', 'answer: exp(coef("temp"))'
    )
    with pytest.raises(SpecError) as info:
        parse_spec(broken)
    assert str(info.value) == " ".join(quoted.group(1).split())


@pytest.mark.parametrize(("name", "parts"), [("tutorial-step-1", 1), ("tutorial-step-5", 3)])
def test_the_validate_command_the_tutorial_types(tmp_path: Path, name: str, parts: int) -> None:
    path = tmp_path / "fish_catch.yaml"
    path.write_text(blocks("spec")[name], encoding="utf-8")
    result = CliRunner().invoke(problems, ["validate", str(path), "--seeds", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"ok: fish_catch v1 ({parts} parts)\nok   fish_catch v1:")
    if parts == 1:
        assert "It prints `ok: fish_catch v1 (1 parts)`" in docs()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", True),
        ("no", False),
        ("on", True),
        ("off", False),
        ("NO", False),
        ("1e3", "1e3"),
        ("1.0e3", "1.0e3"),
        ("1.0e+3", 1000.0),
        ("2.5e-4", 0.00025),
        ("010", 8),
        ("08", "08"),
        ("1:30", 90),
        ('"yes"', "yes"),
    ],
)
def test_the_yaml_traps_are_as_common_mistakes_says(text: str, value: Any) -> None:
    data, _lines = load_with_lines(f"a: {text}")
    assert data["a"] == value and type(data["a"]) is type(value)
    assert f"`{text.strip(chr(34))}`" in docs() or text == "NO" or text == '"yes"'


def test_a_tab_is_refused_with_its_line() -> None:
    spec = tutorial_spec().replace("\n  main: {family", "\n\tmain: {family")
    with pytest.raises(SpecError) as info:
        parse_spec(spec)
    tabbed = next(i for i, line in enumerate(spec.splitlines(), 1) if line.startswith("\t"))
    assert info.value.line == tabbed


def test_a_boolean_level_is_refused_at_its_line() -> None:
    spec = tutorial_spec().replace("levels: [gill, trap]", "levels: [yes, no]")
    with pytest.raises(SpecError) as info:
        parse_spec(spec)
    assert info.value.field == "dgp.predictors.Net.levels[0]"
    assert (
        info.value.line == spec.splitlines().index("    Net: {type: factor, levels: [yes, no]}") + 1
    )


def test_a_quoted_level_stays_text() -> None:
    spec = tutorial_spec().replace("levels: [gill, trap]", 'levels: ["yes", "no"]')
    spec = spec.replace("Nettrap", "Netno").replace('Net="trap"', 'Net="no"')
    spec = spec.replace('Net="gill"', 'Net="yes"')
    assert parse_spec(spec).factor_levels() == {"Net": ["yes", "no"]}


def test_the_tutorial_spec_has_no_diagnostic_at_all() -> None:
    """problem_bank.diagnose (helper diag's branch) finds every problem at once, also by
    drawing variants: the tutorial's whole specs must have none."""
    diagnostics = pytest.importorskip("problem_bank.diagnostics")
    for name in ("tutorial-step-1", "tutorial-step-5"):
        assert diagnostics.diagnose(blocks("spec")[name], generate=True) == [], name
