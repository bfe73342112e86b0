"""The generated docs against the rendered tree: the coverage page names only files that exist and
covers every component the answers chose; CODEOWNERS names existing paths and only chosen roles;
runbooks name only make targets that exist; the docs site builds strictly; issue forms validate."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from rendering import questions, render, scenario, scenario_names

ROW = re.compile(
    r"^\| ([PC][1-9]) \| ([^|]+) \| (covered|partly|not covered) \| ([^|]*) \| ([^|]*) \|$"
)
ROLE_TITLES = {
    "business_stakeholder": "Business stakeholder",
    "solution_architect": "Solution architect",
    "data_scientist": "Data scientist",
    "data_engineer": "Data engineer",
    "software_engineer": "Software engineer",
    "devops_engineer": "DevOps engineer",
    "ml_engineer": "ML engineer",
    "security_officer": "Security officer",
    "model_owner": "Model owner",
    "business_analyst": "Business analyst",
}
# Beside the scenarios: a small team on GitLab, with one handle of its own.
SMALL_TEAM = {
    "ci_provider": "gitlab_ci",
    "roles": ["business_stakeholder", "data_scientist", "ml_engineer"],
    "team_handles": {"data_scientist": "@acme/data-science"},
}
PAPER_ROLES = [
    "business_stakeholder", "solution_architect", "data_scientist", "data_engineer",
    "software_engineer", "devops_engineer", "ml_engineer",
]  # fmt: skip


@pytest.fixture(scope="module", params=[*scenario_names(), "small-team"])
def project(
    request: pytest.FixtureRequest, template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path]:
    """A render of each scenario, with the answers it was rendered with (defaults included)."""
    name = request.param
    given = SMALL_TEAM if name == "small-team" else scenario(name)
    root = render(given, tmp_path_factory.mktemp(name) / "project", template=template)
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text(encoding="utf-8"))
    return answers, root


def coverage_rows(root: Path) -> dict[str, tuple[str, list[str], str]]:
    """id -> (status, files, what would cover the rest), read from docs/coverage.md."""
    rows = {}
    for line in (root / "docs" / "coverage.md").read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            ident, _, status, files, gaps = match.groups()
            rows[ident] = (status, re.findall(r"`([^`]+)`", files), gaps.strip())
    return rows


def test_the_coverage_page_lists_every_principle_and_component(project) -> None:
    _, root = project
    rows = coverage_rows(root)
    assert sorted(rows) == sorted([f"P{i}" for i in range(1, 10)] + [f"C{i}" for i in range(1, 10)])


def test_every_file_the_coverage_page_names_exists(project) -> None:
    _, root = project
    for ident, (status, files, gaps) in coverage_rows(root).items():
        for name in files:
            path = root / name
            assert path.is_dir() if name.endswith("/") else path.is_file(), f"{ident}: {name}"
        if status in {"covered", "partly"}:
            assert files, f"{ident} is marked {status} without a file"
        if status != "covered":
            assert "answer " in gaps, f"{ident} is {status} but does not say which answer covers it"
        else:
            assert gaps == "-", ident


def test_every_chosen_component_shows_as_covered(project) -> None:
    answers, root = project
    rows = coverage_rows(root)
    chosen = {
        "C1": answers["ci_provider"] != "none",
        "C3": True,  # the in-process runner always orchestrates the steps
        "C4": answers["feature_store"] != "none",
        "C5": True,  # training runs somewhere, a laptop at least
        "C6": answers["experiment_tracking"] == "mlflow",
        "C7": answers["experiment_tracking"] == "mlflow",
        "C8": answers["model_serving"] != "none",
        "C9": bool(answers["monitoring"]),
        "P8": bool(answers["monitoring"]),
        "P9": answers["feedback_loop"],
    }
    for ident, on in chosen.items():
        status = rows[ident][0]
        assert (status != "not covered") == on, f"{ident} is {status} for these answers"


def handles_of_chosen_roles(answers: dict[str, Any]) -> set[str]:
    slug = answers["project_slug"]
    return {
        answers["team_handles"].get(role, f"@{slug}/{role.replace('_', '-')}")
        for role in answers["roles"]
    }


def codeowners_file(answers: dict[str, Any]) -> str:
    return {"github_actions": ".github/CODEOWNERS", "gitlab_ci": ".gitlab/CODEOWNERS"}.get(
        answers["ci_provider"], "CODEOWNERS"
    )


def test_codeowners_names_existing_paths_and_only_chosen_roles(project) -> None:
    answers, root = project
    allowed = handles_of_chosen_roles(answers)
    lines = (root / codeowners_file(answers)).read_text(encoding="utf-8").splitlines()
    rules = [line.split() for line in lines if line.strip() and not line.startswith("#")]
    assert rules[0][0] == "*", "the catch-all must come first: later lines win"
    for path, *owners in rules:
        assert owners and set(owners) <= allowed, f"{path}: {owners}"
        if path != "*":
            assert path.startswith("/"), path
            target = root / path.strip("/")
            assert target.is_dir() if path.endswith("/") else target.is_file(), path


def test_responsibilities_fold_every_missing_role_and_name_one_accountable(project) -> None:
    answers, root = project
    text = (root / "docs" / "responsibilities.md").read_text(encoding="utf-8")
    for role, title in ROLE_TITLES.items():
        if role not in answers["roles"]:
            assert re.search(rf"^\| {title} \| [^|]+ \| .+ \(`@", text, re.MULTILINE), role
    matrix = text.split("## RACI matrix")[1].split("## Code owners")[0]
    lines = matrix.splitlines()
    activity_rows = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert len(activity_rows) >= 8
    for row in activity_rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")][1:]
        assert len(cells) == len(answers["roles"])
        assert sum("A" in cell for cell in cells) == 1, row


# `make x` in a code span, or a line of a shell block that starts with it (prose is not a command)
COMMAND = re.compile(r"(?:`|^\s*)make ([a-z][a-z-]*)", re.MULTILINE)


def make_targets(root: Path) -> set[str]:
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))


def test_the_docs_name_only_make_targets_that_exist(project) -> None:
    _, root = project
    targets = make_targets(root)
    for page in [root / "README.md", *sorted((root / "docs").rglob("*.md"))]:
        for target in COMMAND.findall(page.read_text(encoding="utf-8")):
            assert target in targets, f"{page.relative_to(root)} names `make {target}`"


def test_the_goal_states_the_gate_of_params_yaml(project) -> None:
    _, root = project
    goal = (root / "docs" / "project" / "goal.md").read_text(encoding="utf-8")
    gate = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))["gate"]
    metric = gate["metric"]
    direction = "at most" if metric in {"rmse", "mae", "log_loss"} else "at least"
    stated = f"**Success metric:** `{metric}` of {direction} `{gate['thresholds'][metric]}`"
    assert stated in goal


def test_there_is_a_decision_record_per_component_question(project) -> None:
    _, root = project
    records = sorted((root / "docs" / "adr").glob("0*.md"))
    assert len(records) == 13
    text = "\n".join(path.read_text(encoding="utf-8") for path in records)
    for question in (
        "ci_provider",
        "data_versioning",
        "experiment_tracking",
        "monitoring",
        "roles",
        "feature_store",
        "feature_engine",
    ):
        assert f"(answer `{question}: " in text, question


def test_the_docs_site_builds_strictly(project, tmp_path: Path) -> None:
    _, root = project
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "coverage" / "index.html").is_file()


def test_github_issue_forms_follow_their_schema(project) -> None:
    answers, root = project
    if answers["ci_provider"] != "github_actions":
        pytest.skip("issue forms are GitHub's; other hosts get Markdown templates")
    forms = sorted(str(path) for path in (root / ".github" / "ISSUE_TEMPLATE").glob("*.yml"))
    assert len(forms) == 3
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-issue-forms",
            *forms,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("preset", "expected"),
    [("starter", PAPER_ROLES), ("production", PAPER_ROLES), ("platform", None)],
)
def test_the_default_roles_follow_the_preset(
    template: Path, tmp_path: Path, preset: str, expected: list[str] | None
) -> None:
    root = render({"preset": preset}, tmp_path / "p", template=template)
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["roles"] == (expected or questions()["roles"]["choices"])
    assert set(answers["team_handles"]) == set(answers["roles"])
