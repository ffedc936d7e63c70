"""Every built-in problem, graded on many seeds, like scikit-learn's common estimator checks.

For each built-in problem and each of at least SEEDS seeds: the reference answers (as stored and as
a student types them, rounded to the asked digits) score 1, and each misconception's answer
is graded with that misconception's id. Runs over whatever built-ins the bank holds.
"""

from __future__ import annotations

from typing import Any

import pytest

import problem_bank
from graders import grade
from problem_bank.variant import Answer, Part, Variant

SEEDS = 50
#: Seeds tried at most while waiting for a seed-dependent misconception to turn up.
MAX_SEEDS = 1000


def _builtin_ids() -> list[str]:
    listing = getattr(problem_bank, "builtin_problems", None)
    if listing is None or not hasattr(problem_bank, "generate_builtin"):
        return []
    return sorted(listing())


BUILTINS = _builtin_ids()

pytestmark = pytest.mark.skipif(not BUILTINS, reason="the problem bank has no built-ins yet")


def typed(part: Part, answer: Answer) -> Any:
    """What a careful student types: numbers rounded to the part's significant digits."""
    digits = part.acceptance.digits
    if part.kind == "numeric" and isinstance(answer, int | float):
        return f"{answer:.{digits}g}"
    if part.kind == "table" and isinstance(answer, list | tuple):
        return [f"{float(cell):.{digits}g}" for cell in answer]
    return answer


class Seeds:
    """Variants of one problem, generated on demand and kept for the module's tests."""

    def __init__(self, problem_id: str) -> None:
        self.problem_id = problem_id
        self.cache: list[Variant] = []

    def __getitem__(self, seed: int) -> Variant:
        while len(self.cache) <= seed:
            self.cache.append(problem_bank.generate_builtin(self.problem_id, len(self.cache)))
        return self.cache[seed]


@pytest.fixture(scope="module", params=BUILTINS or ["none"])
def seeds(request: pytest.FixtureRequest) -> Seeds:
    return Seeds(request.param)


def test_reference_answers_score_one(seeds: Seeds) -> None:
    for seed in range(SEEDS):
        v = seeds[seed]
        exact = grade(v, {p.id: p.answer for p in v.parts})
        assert exact.score == 1.0, (v.problem, v.seed, exact)
        rounded = grade(v, {p.id: typed(p, p.answer) for p in v.parts})
        assert rounded.score == 1.0, (v.problem, v.seed, rounded)


def test_every_misconception_is_recognised(seeds: Seeds) -> None:
    """Each (part, misconception) is named on every seed that has it, for >= SEEDS seeds.

    Some misconceptions exist only on some seeds (a part asking for ML on one seed and
    REML on another), so seeds are drawn until each has been met SEEDS times.
    """
    seen: dict[tuple[str, str], int] = {}
    failures = []
    seed = 0
    while seed < SEEDS or (seed < MAX_SEEDS and min(seen.values(), default=SEEDS) < SEEDS):
        v = seeds[seed]
        seed += 1
        for part in v.parts:
            for misconception in part.misconceptions:
                key = (part.id, misconception.id)
                verdicts = grade(v, {part.id: typed(part, misconception.answer)}).parts
                mine = next(p for p in verdicts if p.id == part.id)
                if mine.misconception == misconception.id and mine.score < 1.0:
                    seen[key] = seen.get(key, 0) + 1
                else:
                    failures.append((v.seed, key, mine.verdict, mine.misconception))
    assert not failures, failures[:10]
    assert all(count >= SEEDS for count in seen.values()), seen
