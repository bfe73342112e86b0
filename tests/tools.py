"""Running the validators and the generated projects' own commands from the tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

# Variables nox sets for its own session; a generated project must use its own environment.
OUTER_ENVIRONMENT = {
    "VIRTUAL_ENV",
    "UV_PROJECT_ENVIRONMENT",
    "UV_PYTHON",
    "CONDA_PREFIX",
    "PYTHONHOME",
}


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def yaml_documents(path: Path) -> list[Any]:
    """The non-empty documents of a (multi-document) YAML file."""
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def project_environment(**overrides: str) -> dict[str, str]:
    """This process's environment without the outer virtualenv, plus `overrides`."""
    environment = {k: v for k, v in os.environ.items() if k not in OUTER_ENVIRONMENT}
    environment.update(overrides)
    return environment


def tool(name: str) -> str:
    """A validator from this environment (the test dependency group) or the system. Missing on
    CI fails the test (.ci/run installs everything); elsewhere it skips with the reason."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing on CI; .ci/run installs it")
        pytest.skip(f"{name} is not installed (promtool: apt-get install prometheus)")
    return found


def run(
    *command: str | Path,
    cwd: Path | None = None,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Run a command; fail the test with its own output when it fails. Returns the output."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(map(str, command))}:\n{output[-6000:]}"
    return output
