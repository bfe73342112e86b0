"""Render the template as users do (copier's API), from the working tree, with checked answers."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import copier
import yaml

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]
SCENARIOS_DIR = Path(__file__).resolve().parent / "scenarios"


@cache
def copier_config() -> dict[str, Any]:
    return yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))


@cache
def questions() -> dict[str, dict[str, Any]]:
    """The questions copier.yml defines (settings start with `_`)."""
    return {key: value for key, value in copier_config().items() if not key.startswith("_")}


def asked_questions() -> dict[str, dict[str, Any]]:
    """The questions a user can answer (computed values are `when: false`)."""
    return {key: q for key, q in questions().items() if q.get("when", True) is not False}


def check_answer_keys(answers: dict[str, Any]) -> None:
    """A misspelt key would silently test the default instead: refuse it."""
    unknown = set(answers) - set(asked_questions())
    if unknown:
        raise KeyError(f"answers not defined by copier.yml: {sorted(unknown)}")


def scenario_names() -> list[str]:
    return sorted(path.stem for path in SCENARIOS_DIR.glob("*.yml"))


def scenario(name: str) -> dict[str, Any]:
    data = yaml.safe_load((SCENARIOS_DIR / f"{name}.yml").read_text(encoding="utf-8"))
    return data.get("answers") or {}


def snapshot(dst: Path) -> Path:
    """A git repository holding the template's working tree (uncommitted changes included), so
    that every test renders what is on disk, the way `copier copy` renders a released tag."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout.split("\0")
    for name in filter(None, files):
        source = TEMPLATE_ROOT / name
        if source.is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dst / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run([*git, "init", "--quiet"], cwd=dst, check=True)
    subprocess.run([*git, "add", "--all"], cwd=dst, check=True)
    subprocess.run(
        [*git, "commit", "--quiet", "--no-verify", "-m", "snapshot"], cwd=dst, check=True
    )
    return dst


def render(answers: dict[str, Any], dst: Path, template: Path | str = TEMPLATE_ROOT) -> Path:
    """Render `answers` (others take their defaults) into `dst` with copier's own API."""
    check_answer_keys(answers)
    copier.run_copy(
        str(template),
        dst,
        data=answers,
        defaults=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    return dst


def rendered_files(root: Path) -> list[str]:
    """Every file of a render, as sorted POSIX paths relative to its root."""
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    )
