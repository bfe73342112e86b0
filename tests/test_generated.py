"""Slow tier: each scenario's rendered project runs its own README commands (set up, whole loop,
tests) and its own lint, as a newcomer would, in a directory that is not yet a git repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from pairwise import matrix, row_id
from rendering import readme_commands, render, scenario, scenario_names
from tools import project_environment

pytestmark = pytest.mark.slow

CHAMPION_PROBE = """
import json, mlflow
client = mlflow.MlflowClient()
version = client.get_model_version_by_alias("{name}", "champion")
print(json.dumps({{"version": int(version.version), "run_id": version.run_id}}))
"""


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for the projects this worker checks, one after the other: the libraries'
    types are read once (a cold `mypy` takes about 35 s, a warm one 3 s); mypy re-checks any
    module whose source differs, so each project is still checked in full."""
    return tmp_path_factory.getbasetemp() / "mypy-cache"


def run(command: str, cwd: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command,
        shell=True,
        cwd=cwd,
        env=project_environment(**environment),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        f"`{command}` failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result


@pytest.mark.parametrize("name", scenario_names())
def test_the_readme_commands_work_and_the_loop_closes(
    name: str, template: Path, tmp_path: Path, mypy_cache: Path
) -> None:
    check_generated_project(scenario(name), template, tmp_path, mypy_cache)


@pytest.mark.parametrize("row", matrix(), ids=row_id)
def test_every_pairwise_combination_passes_its_own_checks(
    row: dict, template: Path, tmp_path: Path, mypy_cache: Path
) -> None:
    check_generated_project(row, template, tmp_path, mypy_cache)


def check_generated_project(
    answers: dict, template: Path, tmp_path: Path, mypy_cache: Path
) -> None:
    """Render, follow the README's first commands in order, lint, and check the loop closed."""
    project = render(answers, tmp_path / "project", template=template)
    assert not (project / ".git").exists()

    for command in filter(None, readme_commands(project)):
        run(command, project)
    run("make lint", project, MYPY_CACHE_DIR=str(mypy_cache))

    # The demo data passes its task's gate; every threshold's metric was written.
    evaluation = json.loads((project / "reports" / "evaluation.json").read_text())
    assert evaluation["passed"] is True
    metrics = json.loads((project / "reports" / "metrics.json").read_text())
    assert {threshold["metric"] for threshold in evaluation["thresholds"]} <= set(metrics)

    copier_answers = (project / ".copier-answers.yml").read_text(encoding="utf-8")
    if "experiment_tracking: mlflow" in copier_answers:
        registration = json.loads((project / "reports" / "registration.json").read_text())
        assert registration["champion"] is True
        probe = CHAMPION_PROBE.format(name=registration["model_name"])
        champion = json.loads(run(f"uv run --no-sync python -c '{probe}'", project).stdout)
        assert champion == {"version": registration["version"], "run_id": registration["run_id"]}
        assert (project / "mlflow.db").is_file()
    if "data_versioning: dvc" in copier_answers:
        assert (project / "dvc.lock").is_file()
        assert any((project / "dvc-storage").rglob("*")), "dvc push stored nothing in the remote"
        status = run("uv run --no-sync dvc status", project).stdout
        assert "up to date" in status
