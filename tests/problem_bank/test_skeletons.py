"""Every skeleton an author can start from validates, generates and self-tests, and
there is one per model family the editor offers."""

from __future__ import annotations

import pytest

import problem_bank
from problem_bank.skeletons import skeleton_texts

TEXTS = skeleton_texts()


def test_one_skeleton_per_family():
    specs = [problem_bank.parse_spec(text) for text in TEXTS.values()]
    families = {(s.models["main"].family, bool(s.formula().random)) for s in specs}
    assert families == {
        ("gaussian", False),
        ("binomial", False),
        ("poisson", False),
        ("gaussian", True),
    }
    assert len({s.id for s in specs}) == len(specs)
    builtin = set(problem_bank.builtin_problems())
    assert not builtin & {s.id for s in specs}  # a template is known by its id


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_skeleton_validates_generates_and_passes_its_selftest(name):
    spec = problem_bank.parse_spec(TEXTS[name])
    assert spec.version == 1
    variant = problem_bank.generate(spec, 1)
    assert variant.parts and variant.output
    assert problem_bank.plot_png(spec, variant).startswith(b"\x89PNG")
    assert problem_bank.diagnose(TEXTS[name]) == []  # not even a warning to start from
    report = problem_bank.selftest(spec, seeds=5)
    assert report.ok, report
