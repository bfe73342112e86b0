"""The all-pairs matrix of the component answers (`nox -s scenario_files` rewrites it).

Every pair of values of two component questions that copier.yml accepts together appears in at
least one row; each row is checked by copier's own validators (a dry-run render), so no refused
combination is listed. The slow tier runs each row's generated project; a fast test checks that
the matrix still matches copier.yml's choices."""

from __future__ import annotations

import itertools
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import copier
import yaml
from allpairspy import AllPairs
from rendering import SCENARIOS_DIR, asked_questions, questions, snapshot

MATRIX_FILE = SCENARIOS_DIR / "pairwise" / "matrix.yml"

# The answers that change what the generated project itself installs and runs, and the values
# the matrix combines (multiselects: chosen subsets). CI providers and deployment manifests do
# not change the project's own commands; their files are validated statically for every choice.
FACTORS: dict[str, list[Any]] = {
    "data_versioning": ["dvc", "none"],
    "experiment_tracking": ["mlflow", "none"],
    "model_serving": ["fastapi", "none"],
    "monitoring": [[], ["drift_reports", "prometheus", "json_logs"]],
    "feedback_loop": [False, True],
    "python_version": ["3.11", "3.12", "3.13"],
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


def generate() -> list[dict[str, Any]]:
    names = list(FACTORS)
    keys = [i for i, name in enumerate(names) if coupled(name)]
    with tempfile.TemporaryDirectory() as tmp:
        template = snapshot(Path(tmp) / "template")

        @cache
        def valid(key: str) -> bool:
            return accepted(yaml.safe_load(key), template)

        def keep(partial: list[Any]) -> bool:
            # Judge complete rows only; pairs a validator refuses are simply never completed.
            if len(partial) < len(names):
                return True
            return valid(yaml.safe_dump({names[i]: partial[i] for i in keys}))

        rows = [dict(zip(names, row, strict=True)) for row in AllPairs(
            list(FACTORS.values()), filter_func=keep
        )]  # fmt: skip
        # AllPairs never revisits an earlier column, so pairs that only tightly coupled rows
        # accept (monitoring needs serving, which needs tracking) can stay uncovered: cover them
        # greedily, each time with the accepted row that holds most of the missing pairs.
        candidates = [list(r) for r in itertools.product(*FACTORS.values()) if keep(list(r))]
        missing = set().union(*map(pairs_of, candidates)) - set().union(
            *(pairs_of(list(row.values())) for row in rows)
        )
        while missing:
            best = max(candidates, key=lambda r: len(pairs_of(r) & missing))
            missing -= pairs_of(best)
            rows.append(dict(zip(names, best, strict=True)))
    return rows


def pairs_of(row: list[Any]) -> set[tuple[int, str, int, str]]:
    """The (column, value, column, value) pairs of one row of factor values."""
    return {
        (a, yaml.safe_dump(row[a]), b, yaml.safe_dump(row[b]))
        for a, b in itertools.combinations(range(len(row)), 2)
    }


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
    short = {"data_versioning": "dv", "experiment_tracking": "tracking", "model_serving": "serving",
             "monitoring": "mon", "feedback_loop": "loop", "python_version": "py"}  # fmt: skip
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
