"""The template's docs cannot drift from copier.yml: the questions reference is regenerated here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rendering import TEMPLATE_ROOT, asked_questions


def test_the_questions_reference_is_current() -> None:
    result = subprocess.run(
        [sys.executable, "docs/generate.py", "--check"], cwd=TEMPLATE_ROOT, check=False
    )
    assert result.returncode == 0, "docs/questions.md is stale: run `nox -s docs`"


def test_the_reference_names_every_question() -> None:
    text = (TEMPLATE_ROOT / "docs" / "questions.md").read_text(encoding="utf-8")
    for name in asked_questions():
        assert f"| `{name}` |" in text


def test_readme_links_resolve() -> None:
    readme = (TEMPLATE_ROOT / "README.md").read_text(encoding="utf-8")
    for target in ("docs/paper.md", "docs/questions.md"):
        assert f"]({target})" in readme
        assert Path(TEMPLATE_ROOT / target).is_file()
