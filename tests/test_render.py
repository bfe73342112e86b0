"""Render tests: each scenario renders exactly its expected files, and every file is well formed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from rendering import (
    SCENARIOS_DIR,
    readme_commands,
    render,
    rendered_files,
    scenario,
    scenario_names,
)
from static_checks import parse_problems, ruff_problems


@pytest.fixture(scope="module", params=scenario_names())
def rendered(request: pytest.FixtureRequest, template: Path, tmp_path_factory) -> tuple[str, Path]:
    name = request.param
    return name, render(
        scenario(name), tmp_path_factory.mktemp(name) / "project", template=template
    )


def expected_files(name: str) -> list[str]:
    data = yaml.safe_load((SCENARIOS_DIR / f"{name}.yml").read_text(encoding="utf-8"))
    return sorted(data["files"])


def test_exactly_the_expected_files(rendered: tuple[str, Path]) -> None:
    name, project = rendered
    assert rendered_files(project) == expected_files(name)


def test_no_jinja_is_left_and_every_structured_file_parses(rendered: tuple[str, Path]) -> None:
    _, project = rendered
    problems, checked = parse_problems(project)
    assert problems == []
    assert checked >= 10


def test_the_answers_file_records_every_asked_answer(rendered: tuple[str, Path]) -> None:
    name, project = rendered
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    for key, value in scenario(name).items():
        assert answers[key] == value
    assert "_src_path" in answers and "_commit" in answers


def test_the_project_passes_its_own_ruff_config(rendered: tuple[str, Path]) -> None:
    _, project = rendered
    assert ruff_problems([project]) == ""


def test_the_readme_starts_with_setup_run_test(rendered: tuple[str, Path]) -> None:
    _, project = rendered
    assert readme_commands(project) == ["make setup", "make run", "make test"]


def test_generated_python_passes_bandit(rendered: tuple[str, Path]) -> None:
    _, project = rendered
    result = subprocess.run(
        ["bandit", "--recursive", "--quiet", "--format", "txt", "src"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_secrets_in_the_render(rendered: tuple[str, Path]) -> None:
    _, project = rendered
    result = subprocess.run(
        ["detect-secrets", "scan", "--all-files", "."],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout)["results"] == {}


def test_the_faster_rendering_of_the_tests_writes_the_same_files(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tests/rendering.py reuses Jinja's compiled templates and asks git for the file mode once
    per render; copier's own code, restored here, renders the same bytes and modes."""
    from copier._main import Worker
    from jinja2.sandbox import SandboxedEnvironment

    answers = scenario("platform")
    fast = render(answers, tmp_path / "fast", template=template)
    monkeypatch.setattr(SandboxedEnvironment, "compile", SandboxedEnvironment.compile.original)
    sync = Worker._sync_git_index_executable_bit
    monkeypatch.setattr(Worker, "_sync_git_index_executable_bit", sync.original)
    plain = render(answers, tmp_path / "plain", template=template)

    files = rendered_files(plain)
    assert rendered_files(fast) == files
    for name in files:
        assert (fast / name).read_bytes() == (plain / name).read_bytes(), name
        assert (fast / name).stat().st_mode == (plain / name).stat().st_mode, name
