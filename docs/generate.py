"""Write docs/questions.md from copier.yml (`nox -s docs`); a test fails when the two disagree."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "questions.md"


def cell(value: Any) -> str:
    text = " ".join(str(value).split())
    return text.replace("|", "\\|") or " "


def choices(question: dict[str, Any]) -> str:
    options = question.get("choices")
    if not options:
        return "free text" if question.get("type") == "str" else question.get("type", "")
    names = options if isinstance(options, list) else list(options)
    prefix = "any of " if question.get("multiselect") else ""
    return prefix + ", ".join(f"`{name}`" for name in names)


def reference() -> str:
    config = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))
    asked = {
        k: v for k, v in config.items() if not k.startswith("_") and v.get("when") is not False
    }
    derived = {k: v for k, v in config.items() if not k.startswith("_") and v.get("when") is False}
    lines = [
        "# Questions reference",
        "",
        "Generated from `copier.yml` by `docs/generate.py` (`nox -s docs`); do not edit by hand.",
        "Pass answers with `--data key=value` (lists as YAML:",
        "`--data 'monitoring=[prometheus]'`) or `--data-file answers.yml`. Defaults that are",
        "Jinja expressions depend on earlier answers.",
        "",
        "| question | choices | default | what it changes |",
        "|---|---|---|---|",
    ]
    for name, question in asked.items():
        default = question.get("default", "")
        row = [f"`{name}`", cell(choices(question)), f"`{cell(default)}`", cell(question["help"])]
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "## Derived values",
        "",
        "Computed once from the answers above and used by the template files; never asked.",
        "",
        "| name | value |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | `{cell(q['default'])}` |" for name, q in derived.items()]
    return "\n".join(lines) + "\n"


def main() -> int:
    if "--check" in sys.argv:
        return 0 if TARGET.read_text(encoding="utf-8") == reference() else 1
    TARGET.write_text(reference(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
