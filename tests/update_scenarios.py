"""Rewrite each scenario's `files:` list from a fresh render, and the pairwise matrix
(`nox -s scenario_files`).

The render tests compare against these lists; review the diff before committing it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pairwise
import yaml
from rendering import SCENARIOS_DIR, render, rendered_files, scenario, scenario_names, snapshot


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        template = snapshot(Path(tmp) / "template")
        for name in scenario_names():
            files = rendered_files(render(scenario(name), Path(tmp) / name, template=template))
            path = SCENARIOS_DIR / f"{name}.yml"
            text = path.read_text(encoding="utf-8").split("\nfiles:\n")[0].rstrip("\n")
            listing = yaml.safe_dump({"files": files}, default_flow_style=False, width=200)
            path.write_text(f"{text}\n{listing}", encoding="utf-8")
            print(f"{name}: {len(files)} files")
    print(f"pairwise matrix: {pairwise.write()} rows")


if __name__ == "__main__":
    main()
