"""Slow tier: each scenario's rendered project runs its own README commands (set up, whole loop,
tests) and its own lint, as a newcomer would, in a directory that is not yet a git repository; a
scenario on GitLab runs instead through its CI's `ci` job, executed by gitlab-ci-local."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pairwise import matrix, row_id
from rendering import git, readme_commands, render, scenario, scenario_names, scenario_runner
from tools import (
    node_tool,
    project_environment,
    share_the_bytecode_of_cached_packages,
    uv_cache_dir,
)

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
def test_each_scenario_runs_its_commands_and_the_loop_closes(
    name: str, template: Path, tmp_path: Path, mypy_cache: Path
) -> None:
    runner = scenario_runner(name)
    check_generated_project(scenario(name), template, tmp_path, mypy_cache, runner)


def run_the_gitlab_ci_job(project: Path, tmp_path: Path, mypy_cache: Path) -> None:
    """GitLab's own definition of the `ci` job runs, through gitlab-ci-local's shell executor, on
    the render committed and pushed as a team would (with its uv.lock: the job installs with
    UV_LOCKED=1). The job gets a linked copy of uv's package cache (its after_script prunes the
    cache it is given) and this worker's mypy cache, so nothing is downloaded again."""
    runner = node_tool("gitlab_ci_local", "gitlab-ci-local")
    git("init", "--quiet", cwd=project)
    run("uv lock --quiet", project)
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "--no-verify", "-m", "render", cwd=project)
    # A clone of the team's GitLab project: the jobs' `changes:` rules compare with origin/main.
    origin = tmp_path / "origin.git"
    git("init", "--quiet", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=project)
    git("push", "--quiet", "origin", "main", cwd=project)
    with linked_copy_of_the_uv_cache(tmp_path) as cache:
        variables = {
            "UV_CACHE_DIR": cache,
            "UV_LINK_MODE": "hardlink",
            "MYPY_CACHE_DIR": mypy_cache,
        }
        options = " ".join(f"--variable {name}={value}" for name, value in variables.items())
        result = run(f"'{runner}' --force-shell-executor {options} ci", project)
    assert "PASS  ci" in result.stdout, result.stdout[-4000:]
    ran = [line[len("ci $ ") :] for line in result.stdout.splitlines() if line.startswith("ci $ ")]
    assert ran[:4] == ["make setup", "make lint", "make test", "make run"], ran


@pytest.mark.parametrize("row", matrix(), ids=row_id)
def test_every_pairwise_combination_passes_its_own_checks(
    row: dict, template: Path, tmp_path: Path, mypy_cache: Path
) -> None:
    check_generated_project(row, template, tmp_path, mypy_cache)


@contextmanager
def linked_copy_of_the_uv_cache(tmp_path: Path) -> Iterator[Path]:
    """uv's package cache, hard-linked file by file (no data copied): the job may prune it while
    the other workers keep using the original. Linked in the test's folder, or beside the cache
    when the two are on different file systems."""
    shared = uv_cache_dir()
    shared.mkdir(parents=True, exist_ok=True)
    for copy in (tmp_path / "uv-cache", shared.with_name(f"{shared.name}-{tmp_path.name}")):
        linked = subprocess.run(["cp", "-al", shared, copy], capture_output=True, check=False)
        if linked.returncode == 0:
            break
        shutil.rmtree(copy, ignore_errors=True)
    else:
        raise AssertionError(f"cannot link uv's cache {shared}: {linked.stderr.decode()}")
    try:
        yield copy
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def check_generated_project(
    answers: dict, template: Path, tmp_path: Path, mypy_cache: Path, runner: str = "readme"
) -> None:
    """Render, follow the README's first commands in order and lint (or run the GitLab `ci` job,
    which does the same), and check the loop closed."""
    project = render(answers, tmp_path / "project", template=template)
    assert not (project / ".git").exists()

    if runner == "gitlab-ci-local":
        run_the_gitlab_ci_job(project, tmp_path, mypy_cache)
    else:
        for command in filter(None, readme_commands(project)):
            run(command, project)
        run("make lint", project, MYPY_CACHE_DIR=str(mypy_cache))
    share_the_bytecode_of_cached_packages(project)
    check_the_loop_closed(project)


def check_the_loop_closed(project: Path) -> None:
    """The gate passed, a champion is registered and matches the report, DVC is up to date."""
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
