"""Write the datasets and the case manifest that ``make_golden.R`` fits with real R.

Run from the repository root:
    .venv/bin/python scripts/golden/make_datasets.py && Rscript scripts/golden/make_golden.R

Datasets imitate the lecture's examples (foodav, drugz, cod, Hg/region) plus count data
with overdispersion and extra zeros. Each scenario has three seeds with different effect
sizes so that formatting paths (tiny p-values, non-significant terms, wide columns) vary.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path("tests/problem_bank/golden")


def foodav(rng: np.random.Generator, slope: float) -> pd.DataFrame:
    x = rng.uniform(0.5, 8, 63)
    return pd.DataFrame(
        {"Foodavailability": x, "ReproductiveEffort": 0.9 + slope * x + rng.normal(0, 0.27, 63)}
    )


def drugz(rng: np.random.Generator, eff: tuple[float, float], inter: float) -> pd.DataFrame:
    dose = np.repeat(["control", "dose1", "dose2"], 50)
    ic = rng.normal(6.5, 1.8, 150)
    shift = np.select([dose == "dose1", dose == "dose2"], [eff[0], eff[1]], 0.0)
    slope = 0.93 + np.select([dose == "dose1"], [inter], 0.0)
    fc = 0.5 + slope * ic + shift + rng.normal(0, 1.0, 150)
    return pd.DataFrame({"FC": fc, "IC": ic, "Dose": dose})


def cod(rng: np.random.Generator, n: int, n_na: int) -> pd.DataFrame:
    year = rng.choice([1999, 2000, 2001], n)
    area = rng.choice([1, 2, 3, 4], n)
    length = rng.normal(55, 17, n).round(0)
    eta = (
        -0.47
        + 0.0097 * length
        + np.select([year == 2000, year == 2001], [0.57, -0.68], 0.0)
        + np.select([area == 2, area == 3, area == 4], [-0.63, -0.51, 1.23], 0.0)
    )
    prev = rng.binomial(1, 1 / (1 + np.exp(-eta))).astype(float)
    na_rows = rng.choice(n, n_na, replace=False)
    prev[na_rows[: n_na // 2]] = np.nan
    length[na_rows[n_na // 2 :]] = np.nan
    return pd.DataFrame({"Prevalence": prev, "Length": length, "Year": year, "Area": area})


def counts(rng: np.random.Generator, n: int, size: float | None, zi: float) -> pd.DataFrame:
    habitat = rng.choice(["forest", "meadow", "wetland"], n)
    x = rng.uniform(0, 3, n).round(2)
    mu = np.exp(
        0.3 + 0.45 * x + np.select([habitat == "meadow", habitat == "wetland"], [0.4, -0.3], 0)
    )
    y = rng.poisson(mu if size is None else rng.gamma(size, mu / size))
    y[rng.uniform(size=n) < zi] = 0
    return pd.DataFrame({"count": y, "x": x, "habitat": habitat})


def hg(
    rng: np.random.Generator, groups: int, per: int, sd_int: float, sd_slope: float
) -> pd.DataFrame:
    region = np.repeat([chr(65 + g) for g in range(groups)], per)
    size = rng.uniform(20, 60, groups * per).round(2)
    b0 = rng.normal(0, sd_int, groups)[np.repeat(np.arange(groups), per)]
    b1 = rng.normal(0, sd_slope, groups)[np.repeat(np.arange(groups), per)]
    y = 0.52 + b0 + (0.0198 + b1) * size + rng.normal(0, 0.08, groups * per)
    return pd.DataFrame({"size": size, "Hg": y, "region": region})


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    cases: list[dict] = []

    def add(name: str, df: pd.DataFrame, **case: object) -> None:
        df.to_csv(OUT / f"{name}.csv", index=False, na_rep="NA", float_format="%.6f")
        cases.append({"name": name, "csv": f"{name}.csv", **case})

    for i, slope in enumerate([1.19, 0.05, 0.002]):
        rng = np.random.default_rng(100 + i)
        add(
            f"ols_simple_{i}",
            foodav(rng, slope),
            family="ols",
            formula="ReproductiveEffort ~ Foodavailability",
            data_name="foodav",
        )
    for i, (eff, inter) in enumerate(
        [((-0.44, -2.1), 0.0), ((-0.1, -0.3), -0.3), ((-3.0, 0.05), 0.2)]
    ):
        rng = np.random.default_rng(200 + i)
        df = drugz(rng, eff, inter)
        add(
            f"ols_additive_{i}",
            df,
            family="ols",
            formula="FC ~ IC + Dose",
            data_name="drugz",
            factors=["Dose"],
            emmeans="Dose",
        )
        add(
            f"ols_interaction_{i}",
            df,
            family="ols",
            formula="FC ~ IC * Dose",
            data_name="drugz",
            factors=["Dose"],
            emmeans="Dose",
        )
    for i, (n, n_na) in enumerate([(1254, 6), (400, 3), (120, 10)]):
        rng = np.random.default_rng(300 + i)
        add(
            f"glm_binomial_{i}",
            cod(rng, n, n_na),
            family="glm",
            distribution="binomial",
            formula="Prevalence ~ Length + Year + Area",
            data_name="cod",
            factors=["Year", "Area"],
            emmeans="Area",
        )
    for i, (n, size, zi) in enumerate([(200, 1.5, 0.25), (150, None, 0.0), (300, 4.0, 0.1)]):
        rng = np.random.default_rng(400 + i)
        add(
            f"glm_poisson_{i}",
            counts(rng, n, size, zi),
            family="glm",
            distribution="poisson",
            formula="count ~ x + habitat",
            data_name="birds",
            factors=["habitat"],
            emmeans="habitat",
        )
    for i, (groups, per, sd) in enumerate([(4, 20, 0.27), (8, 12, 0.1), (6, 15, 0.0)]):
        rng = np.random.default_rng(500 + i)
        df = hg(rng, groups, per, sd, 0.0)
        for method in ("ML", "REML"):
            add(
                f"mixed_intercept_{i}_{method}",
                df,
                family="mixed",
                method=method,
                formula="Hg ~ size + (1 | region)",
                data_name="HgDat_df",
            )
    for i, (groups, per, sd, sds) in enumerate(
        [(8, 15, 0.25, 0.004), (10, 10, 0.15, 0.002), (6, 20, 0.3, 0.006)]
    ):
        rng = np.random.default_rng(600 + i)
        df = hg(rng, groups, per, sd, sds)
        for method in ("ML", "REML"):
            add(
                f"mixed_slope_{i}_{method}",
                df,
                family="mixed",
                method=method,
                formula="Hg ~ size + (size | region)",
                data_name="HgDat_df",
            )
    (OUT / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")


if __name__ == "__main__":
    main()
