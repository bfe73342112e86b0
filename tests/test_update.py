"""`copier update` keeps a team's work: from the previous release to HEAD, with team edits; changing
an answer swaps components; a dirty repository is refused untouched."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from rendering import git, history, releases, render, rendered_files, snapshot

PRESETS = ["starter", "production", "platform"]
CONFLICT_MARKER = re.compile(r"^(<<<<<<<|>>>>>>>)( |$)", re.MULTILINE)


def commit_all(project: Path, message: str) -> None:
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "--no-verify", "-m", message, cwd=project)


def start_project(template: Path, answers: dict[str, Any], dst: Path, vcs_ref: str) -> Path:
    """Render, then make it the team's repository, as `make setup` and a first commit would."""
    project = render(answers, dst, template=template, vcs_ref=vcs_ref)
    git("init", "--quiet", cwd=project)
    commit_all(project, "rendered")
    return project


def package_dir(project: Path) -> Path:
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    return project / "src" / answers["package_name"]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer contains {old!r}: adapt the team's edit"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def team_edits(project: Path) -> None:
    """What a team does after day one: tune params, add a dependency and code, write docs."""
    edit(project / "params.yaml", "  C: 1.0\n", "  C: 0.5\n")
    edit(
        project / "pyproject.toml", '    "pyyaml>=6.0",\n', '    "pyyaml>=6.0",\n    "rich>=13",\n'
    )
    (package_dir(project) / "team_features.py").write_text('"""Our own code."""\n', "utf-8")
    readme = project / "README.md"
    lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = "Predicts which transactions are fraudulent, for the risk team.\n"
    readme.write_text("".join(lines), encoding="utf-8")
    commit_all(project, "team work")


def assert_team_work_kept(project: Path) -> None:
    assert "  C: 0.5\n" in (project / "params.yaml").read_text(encoding="utf-8")
    assert '"rich>=13",' in (project / "pyproject.toml").read_text(encoding="utf-8")
    assert (package_dir(project) / "team_features.py").is_file()
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "Predicts which transactions are fraudulent" in readme


def assert_no_conflicts(project: Path) -> None:
    for relative in rendered_files(project):
        assert not relative.endswith(".rej"), relative
        text = (project / relative).read_text(encoding="utf-8", errors="replace")
        assert not CONFLICT_MARKER.search(text), relative


def update(project: Path, **kwargs: Any) -> None:
    copier.run_update(
        project, defaults=True, overwrite=True, conflict="inline", quiet=True, **kwargs
    )


@pytest.mark.parametrize("preset", PRESETS, ids=[f"preset={p}" for p in PRESETS])
def test_update_from_the_previous_release_keeps_the_team_work(preset: str, tmp_path: Path) -> None:
    release = releases()[-1]
    template = history(tmp_path / "template", release)
    project = start_project(template, {"preset": preset}, tmp_path / "project", release["version"])
    team_edits(project)

    update(project, vcs_ref="HEAD")

    assert_team_work_kept(project)
    assert_no_conflicts(project)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["_commit"] != release["version"]
    assert answers["preset"] == preset
    # Files the team owns appear when a release introduces them.
    for owned in ("model.py", "schema.py"):
        assert (package_dir(project) / owned).is_file()
    for path in project.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_team_owned_files_are_never_overwritten(template: Path, tmp_path: Path) -> None:
    project = start_project(template, {}, tmp_path / "project", "HEAD")
    own_model = '"""Gradient boosting, tuned by the team."""\n'
    (package_dir(project) / "model.py").write_text(own_model, encoding="utf-8")
    edit(project / "params.yaml", "  C: 1.0\n", "  C: 0.5\n")
    commit_all(project, "team model")

    update(project, vcs_ref="HEAD", data={"license": "BSD-3-Clause"})

    assert (package_dir(project) / "model.py").read_text(encoding="utf-8") == own_model
    assert "  C: 0.5\n" in (project / "params.yaml").read_text(encoding="utf-8")
    assert "BSD 3-Clause" in (project / "LICENSE").read_text(encoding="utf-8")


def test_a_dirty_repository_is_refused_and_left_untouched(template: Path, tmp_path: Path) -> None:
    project = start_project(template, {}, tmp_path / "project", "HEAD")
    (project / "params.yaml").write_text("work in progress\n", encoding="utf-8")
    before = {p: (project / p).read_bytes() for p in rendered_files(project)}

    with pytest.raises(copier.errors.UserMessageError, match="dirty"):
        update(project, vcs_ref="HEAD", data={"license": "BSD-3-Clause"})

    assert {p: (project / p).read_bytes() for p in rendered_files(project)} == before


def test_a_team_edit_to_a_workflow_merges_with_a_template_change(tmp_path: Path) -> None:
    template = snapshot(tmp_path / "template")
    git("tag", "1.0.0", cwd=template)
    answers = {"ci_provider": "github_actions"}
    project = start_project(template, answers, tmp_path / "project", "1.0.0")
    workflow = project / ".github" / "workflows" / "ci.yml"
    team_line = "# Team: failures page the on-call ML engineer.\n"
    workflow.write_text(workflow.read_text(encoding="utf-8") + team_line, encoding="utf-8")
    commit_all(project, "team edits the workflow")

    # The next template release changes the same workflow elsewhere.
    source = next((template / "template").glob("*.github*/workflows/ci.yml.jinja"))
    edit(source, "  workflow_dispatch:\n", "  workflow_dispatch:\n  merge_group:\n")
    commit_all(template, "run ci in merge queues")
    git("tag", "1.1.0", cwd=template)

    update(project, vcs_ref="1.1.0")

    text = workflow.read_text(encoding="utf-8")
    assert text.endswith(team_line)
    assert "  merge_group:\n" in text
    assert_no_conflicts(project)


SWAPS = [
    # (answer, before, after, a path only `before` renders, a path only `after` renders)
    ("ci_provider", "github_actions", "gitlab_ci", ".github/workflows/ci.yml", ".gitlab-ci.yml"),
    ("ci_provider", "gitlab_ci", "none", ".gitlab-ci.yml", None),
    ("data_versioning", "dvc", "none", "dvc.yaml", None),
]


@pytest.mark.parametrize(
    ("answer", "before", "after", "old_path", "new_path"),
    SWAPS,
    ids=[f"{a}={b}->{c}" for a, b, c, _, _ in SWAPS],
)
def test_changing_an_answer_on_update_swaps_the_component(
    template: Path,
    tmp_path: Path,
    answer: str,
    before: str,
    after: str,
    old_path: str,
    new_path: str | None,
) -> None:
    project = start_project(template, {answer: before}, tmp_path / "project", "HEAD")
    assert (project / old_path).is_file()
    team_edits(project)

    update(project, vcs_ref="HEAD", data={answer: after})

    assert not (project / old_path).exists()
    if new_path is not None:
        assert (project / new_path).is_file()
    assert_team_work_kept(project)
    assert_no_conflicts(project)


TASK_DATA = {"multiclass_classification": "wine", "regression": "diabetes"}


@pytest.mark.parametrize("task", TASK_DATA, ids=[f"ml_task={task}" for task in TASK_DATA])
def test_switching_the_ml_task_brings_its_code_and_params(
    template: Path, tmp_path: Path, task: str
) -> None:
    project = start_project(template, {}, tmp_path / "project", "HEAD")
    edit(project / "params.yaml", "  max_rows: null\n", "  max_rows: 5000\n")
    commit_all(project, "team sample size")

    update(project, vcs_ref="HEAD", data={"ml_task": task})

    assert_no_conflicts(project)
    text = (project / "params.yaml").read_text(encoding="utf-8")
    assert "  max_rows: 5000\n" in text
    assert yaml.safe_load(text)["data"]["source"] == f"sklearn:{TASK_DATA[task]}"
    assert f'TASK = "{task}"' in (package_dir(project) / "task.py").read_text(encoding="utf-8")
    # The merged params.yaml validates under the new task's rules (params.py of the project).
    probe = (
        "import sys; sys.path.insert(0, 'src')\n"
        f"from {package_dir(project).name}.params import load_params\n"
        "print(load_params().gate.metric)"
    )
    gate_metric = subprocess.run(
        [sys.executable, "-c", probe], cwd=project, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert gate_metric in yaml.safe_load(text)["gate"]["thresholds"]
