"""The template's docs cannot drift from copier.yml: the questions reference is regenerated here."""

from __future__ import annotations

import os
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


def test_the_docs_site_builds_strictly(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, (
        "`nox -s docs` fails (a new page under docs/ goes into the nav of mkdocs.yml):\n"
        + result.stdout
        + result.stderr
    )
    assert (tmp_path / "paper" / "index.html").is_file()


def test_readme_links_resolve() -> None:
    readme = (TEMPLATE_ROOT / "README.md").read_text(encoding="utf-8")
    for target in ("docs/paper.md", "docs/questions.md"):
        assert f"]({target})" in readme
        assert Path(TEMPLATE_ROOT / target).is_file()
