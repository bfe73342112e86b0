"""The all-pairs matrix of the component answers (`nox -s scenario_files` rewrites it).

Every pair of values of two component questions that copier.yml accepts together appears in at
least one row or in a scenario of tests/scenarios/ (the slow tier runs those too, so the matrix
only adds rows for the pairs they miss); each row is checked by copier's own validators (a
dry-run render), so no refused combination is listed. The slow tier runs each row's generated
project; fast tests check that the matrix still matches copier.yml's choices."""

from __future__ import annotations

import itertools
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import copier
import yaml
from rendering import (
    SCENARIOS_DIR,
    asked_questions,
    questions,
    render,
    scenario,
    scenario_names,
    snapshot,
)

MATRIX_FILE = SCENARIOS_DIR / "pairwise" / "matrix.yml"

# The answers that change what the generated project itself installs and runs, and the values
# the matrix combines (multiselects: chosen subsets). CI providers and deployment manifests do
# not change the project's own commands; their files are validated statically for every choice.
# Python versions are covered by the scenarios (minimal 3.11, defaults 3.12, platform 3.13), and
# the Spark feature engine by the starter scenario (the engine changes one step's internals).
# The ML task is a factor: it changes every step, the service and the tests.
FACTORS: dict[str, list[Any]] = {
    "ml_task": ["binary_classification", "multiclass_classification", "regression"],
    "data_versioning": ["dvc", "none"],
    "experiment_tracking": ["mlflow", "none"],
    "model_serving": ["fastapi", "none"],
    "monitoring": [[], ["drift_reports", "prometheus"]],
    "feedback_loop": [False, True],
    "feature_store": ["none", "feast"],
}


def accepted(answers: dict[str, Any], template: Path) -> bool:
    """Whether copier's validators accept the answers (a dry run: nothing is written)."""
    try:
        copier.run_copy(
            str(template), Path(template.parent, "dry-run"), data=answers, defaults=True,
            vcs_ref="HEAD", quiet=True, pretend=True,
        )  # fmt: skip
    except ValueError:
        return False
    return True


def coupled(name: str) -> bool:
    """Whether a factor can change a row's verdict: it has a validator, or another question's
    validator or default names it. Rows are judged on the coupled factors alone (cached), since
    the values of the others are all valid choices."""
    others = [q for other, q in questions().items() if other != name]
    mentioned = any(name in str(q.get("validator", "")) + str(q.get("default", "")) for q in others)
    return mentioned or bool(questions()[name].get("validator"))


def scenario_rows(template: Path, tmp: Path) -> list[dict[str, Any]]:
    """The scenarios' resolved answers, as rows of the factors."""
    rows = []
    for name in scenario_names():
        project = render(scenario(name), tmp / f"scenario-{name}", template=template)
        answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
        rows.append({factor: answers[factor] for factor in FACTORS})
    return rows


def generate() -> list[dict[str, Any]]:
    """Every combination the validators accept (the factors are few), then greedily the rows
    that cover the most pairs no scenario and no earlier row covers."""
    names = list(FACTORS)
    keys = [name for name in names if coupled(name)]
    with tempfile.TemporaryDirectory() as tmp:
        template = snapshot(Path(tmp) / "template")

        @cache
        def valid(key: str) -> bool:
            return accepted(yaml.safe_load(key), template)

        combinations = [
            dict(zip(names, values, strict=True)) for values in itertools.product(*FACTORS.values())
        ]
        candidates = [
            row for row in combinations if valid(yaml.safe_dump({k: row[k] for k in keys}))
        ]
        covered = covered_pairs(scenario_rows(template, Path(tmp)))
    wanted = covered_pairs(candidates) - covered
    rows: list[dict[str, Any]] = []
    while wanted:
        best = max(candidates, key=lambda row: len(covered_pairs([row]) & wanted))
        rows.append(best)
        wanted -= covered_pairs([best])
    return rows


def covered_pairs(rows: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    pairs = set()
    for row in rows:
        for (a, x), (b, y) in itertools.combinations(row.items(), 2):
            pairs.add((a, yaml.safe_dump(x), b, yaml.safe_dump(y)))
    return pairs


class NoAliases(yaml.SafeDumper):
    """Writes repeated values out in full, so the matrix reads row by row."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def matrix() -> list[dict[str, Any]]:
    return yaml.safe_load(MATRIX_FILE.read_text(encoding="utf-8"))["rows"]


def row_id(row: dict[str, Any]) -> str:
    short = {"ml_task": "task", "data_versioning": "dv", "experiment_tracking": "tracking",
             "model_serving": "serving", "monitoring": "mon", "feedback_loop": "loop",
             "feature_store": "fs"}  # fmt: skip
    return "-".join(
        f"{short[k]}={'+'.join(v) if isinstance(v, list) else v}" for k, v in row.items()
    )


def write() -> int:
    rows = generate()
    MATRIX_FILE.parent.mkdir(parents=True, exist_ok=True)
    header = "# Generated by tests/pairwise.py (nox -s scenario_files); do not edit by hand.\n"
    body = yaml.dump({"rows": rows}, Dumper=NoAliases, sort_keys=False)
    MATRIX_FILE.write_text(header + body, encoding="utf-8")
    return len(rows)


def factor_questions_exist() -> list[str]:
    """Factor values copier.yml no longer offers (the matrix must be regenerated)."""
    stale = []
    for name, values in FACTORS.items():
        question = asked_questions()[name]
        options = question.get("choices") or [True, False]
        options = list(options.values()) if isinstance(options, dict) else list(options)
        for value in values:
            for item in value if isinstance(value, list) else [value]:
                if item not in options:
                    stale.append(f"{name}={item}")
    return stale
