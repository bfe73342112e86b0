"""Slow tier: week one. A team swaps the demo data for its own CSV (headers as the file writes
them, text labels or a continuous target, an id column) by editing params.yaml only, then runs the
README commands and the project's own tests."""

from __future__ import annotations

import csv
import json
import math
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from rendering import readme_commands, render
from tools import project_environment, run, share_the_bytecode_of_cached_packages

pytestmark = pytest.mark.slow
ROWS = 240
Table = list[dict[str, object]]


def churn(rng: random.Random) -> Table:
    """Customers and whether they left: `yes`/`no` labels, spaced headers, a text id."""
    rows = []
    for i in range(ROWS):
        tenure, charges, calls = rng.randint(1, 72), round(rng.gauss(70, 20), 2), rng.randint(0, 6)
        odds = -1.5 - 0.05 * tenure + 0.03 * charges + 0.6 * calls
        left = rng.random() < 1 / (1 + math.exp(-odds))
        rows.append(
            {
                "Customer ID": f"C-{i:05d}",
                "Tenure (months)": tenure,
                "Monthly Charges": charges,
                "Support Calls": calls,
                "Churned": "yes" if left else "no",
            }
        )
    return rows


def houses(rng: random.Random) -> Table:
    """House sales: a continuous price in a spaced header."""
    rows = []
    for _ in range(ROWS):
        area, rooms, age = round(rng.gauss(150, 40), 1), rng.randint(1, 6), rng.randint(0, 80)
        price = 1200 * area + 8000 * rooms - 500 * age + rng.gauss(0, 15000)
        rows.append(
            {"Living Area": area, "Rooms": rooms, "Age (years)": age, "Sale Price": round(price)}
        )
    return rows


CASES: dict[str, tuple[dict[str, str], Callable[[random.Random], Table], str]] = {
    "binary-text-labels": ({"ml_task": "binary_classification"}, churn, "Churned"),
    "regression-starter": ({"ml_task": "regression", "preset": "starter"}, houses, "Sale Price"),
}


def write_csv(path: Path, rows: Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


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
    write_csv(project / "data" / "external" / "own.csv", make_table(random.Random(7)))
    point_params_at(project, "data/external/own.csv", target)

    env = project_environment()
    for command in filter(None, readme_commands(project)):
        run("sh", "-c", command, cwd=project, env=env)
    share_the_bytecode_of_cached_packages(project)

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
