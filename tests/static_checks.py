"""Checks every render must pass, shared by the scenario tests and the answer-space test."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import yaml
from rendering import questions, rendered_files


class AnyTag(yaml.SafeLoader):
    """Reads YAML that uses custom tags (CI providers do) without interpreting them."""


AnyTag.add_multi_constructor("", lambda loader, suffix, node: None)


@cache
def leftover_pattern() -> re.Pattern[str]:
    """A Jinja expression of one of our variables, or any Jinja statement or comment."""
    names = "|".join(map(re.escape, questions()))
    return re.compile(r"\{%|%\}|\{#|#\}|\{\{-?\s*(?:" + names + r")\b")


def parse_problems(project: Path) -> tuple[list[str], int]:
    """(problems, number of files checked): leftover Jinja, and YAML/TOML/JSON/Python that does
    not parse."""
    problems: list[str] = []
    checked = 0
    for relative in rendered_files(project):
        if "{{" in relative or "{%" in relative:
            problems.append(f"{relative}: Jinja left in the path")
        path = project / relative
        text = path.read_text(encoding="utf-8")
        if leftover_pattern().search(text):
            problems.append(f"{relative}: Jinja left in the text")
        try:
            if path.suffix in {".yml", ".yaml"}:
                list(yaml.load_all(text, AnyTag))
            elif path.suffix == ".toml":
                tomllib.loads(text)
            elif path.suffix == ".json":
                json.loads(text)
            elif path.suffix == ".py":
                compile(text, relative, "exec")
            else:
                continue
        except (yaml.YAMLError, tomllib.TOMLDecodeError, ValueError, SyntaxError) as error:
            problems.append(f"{relative}: {type(error).__name__}: {error}")
        checked += 1
    return problems, checked


def ruff_problems(projects: Iterable[Path]) -> str:
    """Ruff's lint and format check over many projects at once, each with its own config;
    empty when they pass."""
    roots = [str(p) for p in projects]
    if not roots:
        return ""
    output = ""
    for command in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        result = subprocess.run(
            ["ruff", *command, *roots], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            output += result.stdout + result.stderr
    return output
