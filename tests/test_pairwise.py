"""The pairwise matrix (tests/scenarios/pairwise/matrix.yml) matches the questionnaire."""

from __future__ import annotations

from pathlib import Path

import yaml
from pairwise import (
    FACTORS,
    accepted,
    covered_pairs,
    factor_questions_exist,
    matrix,
    scenario_rows,
)


def test_the_matrix_uses_only_values_copier_offers() -> None:
    assert factor_questions_exist() == []


def test_every_row_is_accepted_by_the_validators(template: Path) -> None:
    rows = matrix()
    assert rows
    refused = [row for row in rows if not accepted(row, template)]
    assert refused == [], "regenerate the matrix: nox -s scenario_files"


def test_every_accepted_value_of_every_factor_is_run(template: Path, tmp_path: Path) -> None:
    """Each factor value the validators accept (with the other defaults) is in the matrix or in
    a scenario, so the slow tier runs a project with it."""
    pairs = covered_pairs(matrix() + scenario_rows(template, tmp_path))
    seen = {(a, x) for a, x, _, _ in pairs} | {(b, y) for _, _, b, y in pairs}
    for name, values in FACTORS.items():
        for value in values:
            if accepted({name: value}, template):
                assert (name, yaml.safe_dump(value)) in seen, {name: value}
