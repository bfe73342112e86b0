"""Slow tier: week one. A team swaps the demo data for its own CSV (headers as the file writes
them, text labels or a continuous target, an id column) by editing params.yaml only, then runs the
README commands and the project's own tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rendering import readme_commands, render
from tools import project_environment, run

pytestmark = pytest.mark.slow
ROWS = 240


def churn(rng: np.random.Generator) -> pd.DataFrame:
    """Customers and whether they left: `yes`/`no` labels, spaced headers, a text id."""
    tenure = rng.integers(1, 72, ROWS)
    charges = rng.normal(70, 20, ROWS).round(2)
    calls = rng.poisson(2, ROWS)
    odds = -1.5 - 0.05 * tenure + 0.03 * charges + 0.6 * calls
    left = rng.random(ROWS) < 1 / (1 + np.exp(-odds))
    return pd.DataFrame(
        {
            "Customer ID": [f"C-{i:05d}" for i in range(ROWS)],
            "Tenure (months)": tenure,
            "Monthly Charges": charges,
            "Support Calls": calls,
            "Churned": np.where(left, "yes", "no"),
        }
    )


def houses(rng: np.random.Generator) -> pd.DataFrame:
    """House sales: a continuous price in a spaced header."""
    area = rng.normal(150, 40, ROWS).round(1)
    rooms = rng.integers(1, 7, ROWS)
    age = rng.integers(0, 80, ROWS)
    price = 1200 * area + 8000 * rooms - 500 * age + rng.normal(0, 15000, ROWS)
    return pd.DataFrame(
        {"Living Area": area, "Rooms": rooms, "Age (years)": age, "Sale Price": price.round(0)}
    )


CASES: dict[str, tuple[dict[str, str], Callable[[np.random.Generator], pd.DataFrame], str]] = {
    "binary-text-labels": ({"ml_task": "binary_classification"}, churn, "Churned"),
    "regression-starter": ({"ml_task": "regression", "preset": "starter"}, houses, "Sale Price"),
}


def point_params_at(project: Path, source: str, target: str) -> None:
    """What the README's "Your own data" asks: two entries of params.yaml, comments kept."""
    path = project / "params.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    edited = []
    for line in lines:
        if line.startswith("  source: "):
            line = f"  source: {source}\n"
        elif line.startswith("  target: "):
            line = f'  target: "{target}"\n'
        edited.append(line)
    assert edited != lines, "params.yaml no longer has data.source and data.target"
    path.write_text("".join(edited), encoding="utf-8")


@pytest.mark.parametrize("case", CASES)
def test_a_team_runs_the_loop_on_its_own_csv(case: str, template: Path, tmp_path: Path) -> None:
    answers, make_table, target = CASES[case]
    project = render(answers, tmp_path / "project", template=template)
    table = make_table(np.random.default_rng(7))
    (project / "data" / "external").mkdir(parents=True)
    table.to_csv(project / "data" / "external" / "own.csv", index=False)
    point_params_at(project, "data/external/own.csv", target)

    env = project_environment()
    for command in filter(None, readme_commands(project)):
        run("sh", "-c", command, cwd=project, env=env)

    validation = json.loads((project / "reports" / "validation.json").read_text())
    assert validation["rows"] == ROWS
    assert "customer_id" not in validation["features"]
    spec = json.loads((project / "data" / "processed" / "features.json").read_text())
    assert spec["target"] == target.lower().replace(" ", "_")
    if answers["ml_task"] == "binary_classification":
        assert set(validation["class_counts"]) == {"no", "yes"}
        assert validation["text_columns_left_out"] == ["customer_id"]
    evaluation = json.loads((project / "reports" / "evaluation.json").read_text())
    metrics = json.loads((project / "reports" / "metrics.json").read_text())
    assert {threshold["metric"] for threshold in evaluation["thresholds"]} <= set(metrics)
