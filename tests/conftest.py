"""Shared fixtures: one snapshot of the template per test session, renders per scenario."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rendering import render, snapshot


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's working tree as a git repository, made once per session (and worker)."""
    return snapshot(tmp_path_factory.mktemp("template"))


@pytest.fixture
def render_project(template: Path, tmp_path: Path) -> Callable[..., Path]:
    """Render answers into a fresh folder of this test."""

    def _render(answers: dict[str, Any], name: str = "project") -> Path:
        return render(answers, tmp_path / name, template=template)

    return _render
