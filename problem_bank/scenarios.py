"""Scenario library for the conceptual "which effect should be random?" problems.

Each ``problem_bank/scenarios/*.yaml`` file is one study design (fish in nets at sites,
turkeys in flocks...) with several wordings and the answers to a fixed set of questions
(experimental unit, response, grouping factor, random structure, fixed or random for a
named factor and why). A variant draws a scenario, a wording, its numbers and the order
of the choices from the seed. Scenarios are data, validated like specs.

Keys are data too: ``facts`` says what is true of the named factor, one entry per
statement a ``reason`` option makes (keyed by the option's id). The key is the one offered
option whose statement is true, and a factor is random exactly when its levels are
``sampled``; :func:`key_problems` checks both, so two true reasons cannot slip in.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pydantic import Field, model_validator

from problem_bank.dgp import STREAM_SCENARIO, rng_for
from problem_bank.spec import Id, Strict, validate_yaml
from problem_bank.variant import Choice

#: The questions every scenario answers; problem specs refer to them with ``choices_from``.
QUESTIONS = (
    "experimental_unit",
    "response",
    "grouping",
    "random_structure",
    "named_factor",
    "reason",
)


class ScenarioMisconception(Strict):
    id: Id
    choice: str
    message: str


class ScenarioQuestion(Strict):
    """The choices (id → label), the right one, why, and the tempting wrong ones."""

    answer: str
    choices: dict[str, str] = Field(min_length=2)
    explanation: str = ""
    misconceptions: list[ScenarioMisconception] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known(self) -> ScenarioQuestion:
        if self.answer not in self.choices:
            raise ValueError(f"answer {self.answer!r} is not among the choices")
        for m in self.misconceptions:
            if m.choice not in self.choices or m.choice == self.answer:
                raise ValueError(f"misconception {m.id}: {m.choice!r} must be a wrong choice")
        return self


class ScenarioSpec(Strict):
    id: Id
    library: str = "which_random"
    title: str
    #: Alternative wordings of the same design; ``{name}`` placeholders come from ``values``.
    wordings: list[str] = Field(min_length=1)
    #: Integer ranges drawn per variant (number of sites, animals...).
    values: dict[str, tuple[int, int]] = Field(default_factory=dict)
    #: The factor asked about in the fixed-or-random question.
    named_factor: str
    #: What is true of the named factor: one entry per ``reason`` option (by its id).
    facts: dict[str, bool]
    questions: dict[str, ScenarioQuestion]

    @model_validator(mode="after")
    def _complete(self) -> ScenarioSpec:
        missing = [q for q in QUESTIONS if q not in self.questions]
        if missing:
            raise ValueError(f"questions missing: {', '.join(missing)}")
        for w in self.wordings:
            for name in re.findall(r"\{(\w+)\}", w):
                if name not in self.values:
                    raise ValueError(f"wording uses {{{name}}}, which is not under values")
        unknown = [c for c in self.questions["reason"].choices if c not in self.facts]
        if unknown:
            raise ValueError(f"reason option {unknown[0]!r} has no entry under facts")
        return self


#: The fact that makes a factor random; without it, the factor is fixed.
RANDOM_FACT = "sampled"


def key_problems(spec: ScenarioSpec) -> list[str]:
    """Why this scenario's keys are not the only right answers, as reasons (empty: sound).

    ``reason``: exactly one offered option states a fact that holds, and it is the key;
    ``named_factor``: random when the levels are sampled, fixed otherwise.
    """
    problems = []
    reason = spec.questions["reason"]
    true = [c for c in reason.choices if spec.facts.get(c, False)]
    where = f"scenario {spec.id}"
    if len(true) > 1:
        problems.append(
            f"{where}: reason options {' and '.join(true)} are all true of {spec.named_factor}"
        )
    elif not true:
        problems.append(f"{where}: no reason option is true of {spec.named_factor}")
    elif true != [reason.answer]:
        problems.append(f"{where}: the reason key is {reason.answer} but the true one is {true[0]}")
    expected = "random" if spec.facts.get(RANDOM_FACT, False) else "fixed"
    if spec.questions["named_factor"].answer != expected:
        problems.append(
            f"{where}: {spec.named_factor} is keyed "
            f"{spec.questions['named_factor'].answer}, but the facts make it {expected}"
        )
    return problems


def library_problems(library: str) -> list[str]:
    """:func:`key_problems` of every scenario in ``library``."""
    return [
        problem
        for spec in scenario_library().values()
        if spec.library == library
        for problem in key_problems(spec)
    ]


@dataclass(frozen=True)
class Scenario:
    """One drawn scenario: the story and the questions, choices in a drawn order."""

    spec: ScenarioSpec
    story: str
    order: dict[str, tuple[str, ...]]

    @property
    def values(self) -> dict[str, Any]:
        return {"named_factor": self.spec.named_factor, "scenario_title": self.spec.title}

    def question(self, key: str) -> ScenarioQuestion:
        return self.spec.questions[key]

    def choices(self, key: str) -> tuple[Choice, ...]:
        q = self.spec.questions[key]
        return tuple(Choice(cid, q.choices[cid]) for cid in self.order[key])


@functools.cache
def scenario_library() -> dict[str, ScenarioSpec]:
    """Every built-in scenario, by id (validated once per process)."""
    out: dict[str, ScenarioSpec] = {}
    folder = resources.files("problem_bank") / "scenarios"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            spec, _ = validate_yaml(ScenarioSpec, entry.read_text(encoding="utf-8"))
            out[spec.id] = spec
    return out


def draw_scenario(library: str, seed: int, attempt: int) -> Scenario:
    """The scenario, wording, numbers and choice order for one seed."""
    rng = rng_for(seed, attempt, STREAM_SCENARIO)
    pool = [s for s in scenario_library().values() if s.library == library]
    if not pool:
        raise ValueError(f"no scenarios in library {library!r}")
    spec = pool[int(rng.integers(len(pool)))]
    wording = spec.wordings[int(rng.integers(len(spec.wordings)))]
    numbers = {k: int(rng.integers(lo, hi + 1)) for k, (lo, hi) in spec.values.items()}
    story = re.sub(r"\{(\w+)\}", lambda m: str(numbers[m.group(1)]), wording).strip()
    order = {
        key: tuple(str(c) for c in rng.permutation(list(q.choices)))
        for key, q in spec.questions.items()
    }
    return Scenario(spec, story, order)
