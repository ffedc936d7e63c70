"""The random-slope story and its data agree: every subject on each day 0 to 9, once.

Before (version 2), Days was drawn uniform on [0, 10) and rounded: days 0-10, some days
twice for a subject and others missing, while the story said "each day … (Days = 0 to 9)".
"""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

import problem_bank as pb
from problem_bank.dgp import draw_dataset


@pytest.mark.parametrize("seed", range(8))
def test_each_subject_is_measured_once_on_each_day_the_story_names(seed: int) -> None:
    spec = pb.builtin_problems()["random_slope"]
    variant = pb.generate(spec, seed)
    low, high = map(int, re.search(r"Days = (\d+) to (\d+)", variant.story).groups())
    frame = pd.read_csv(io.StringIO(variant.data_csv))
    for subject, days in frame.groupby("Subject")["Days"]:
        assert sorted(days) == list(range(low, high + 1)), subject
    assert f"{frame['Subject'].nunique()} volunteers" in variant.story


def test_a_sequence_predictor_counts_within_each_group_or_over_all_rows() -> None:
    grouped = pb.parse_spec(_random_slope_text().replace("size: [10, 10]", "size: [3, 5]"))
    data = draw_dataset(grouped, seed=7).frame
    for _, days in data.groupby("Subject", observed=True)["Days"]:
        assert list(days) == list(range(len(days)))
    assert data.groupby("Subject", observed=True).size().nunique() > 1  # sizes 3 to 5
    flat = _random_slope_text().replace(
        "Days: {type: numeric, dist: sequence, low: 0, step: 1, decimals: 0}",
        "Days: {type: numeric, dist: sequence, low: 1, step: 0.5, decimals: 1}",
    )
    days = draw_dataset(pb.parse_spec(flat), seed=7).frame.groupby("Subject", observed=True)
    assert list(next(iter(days))[1]["Days"]) == [1 + 0.5 * i for i in range(10)]


def _random_slope_text() -> str:
    from importlib import resources

    return (resources.files("problem_bank") / "specs" / "09_random_slope.yaml").read_text()
