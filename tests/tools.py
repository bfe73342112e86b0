"""Running the validators and the generated projects' own commands from the tests."""

from __future__ import annotations

import fcntl
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


# Set on some build machines, not on a user's: without it a generated project writes the bytecode
# of what it imports once, on first use, and its later processes load it (`make setup` does not
# compile every dependency up front: docs/benchmarks.md).
MACHINE_ONLY = {"PYTHONDONTWRITEBYTECODE"}


def project_environment(**overrides: str) -> dict[str, str]:
    """This process's environment without the outer virtualenv, as on a user's machine, plus
    `overrides`."""
    dropped = OUTER_ENVIRONMENT | MACHINE_ONLY
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
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
    stdout_only: bool = False,
) -> str:
    """Run a command; fail the test with its own output (both streams, and the signal that killed
    it) when it fails. Returns the output, or only its standard output."""
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
    if result.returncode != 0:
        ended = (
            f"killed by signal {-result.returncode}"
            if result.returncode < 0
            else f"exit {result.returncode}"
        )
        pytest.fail(
            f"{' '.join(map(str, command))} ({ended}):\n"
            f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-6000:]}",
            pytrace=False,
        )
    return result.stdout if stdout_only else output


# A wheel's `<name>.data/` folder is installed by moving each file its RECORD lists: a file
# added there makes uv refuse the wheel.
DATA_FILES = r"\.data/"


def share_the_bytecode_of_cached_packages(project: Path) -> None:
    """Write the bytecode of the packages the project's environment links from uv's cache into
    the cache itself, for the environment's Python version (the slow tier's projects share one
    cache and install its packages as hard links). Every environment linked after this gets the
    bytecode with the files, instead of each project compiling what it imports on first use
    (about 90 s of a default project's first run and tests here). Python checks each file's
    bytecode against its source, so nothing stale is loaded. Where the environment copied its
    files instead (another file system), nothing links to the cache and nothing is done."""
    environment = project_environment()
    cache = Path(
        subprocess.run(
            ["uv", "cache", "dir"], env=environment, capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    archives = {}
    for wheel in cache.glob("archive-v0/*/*.dist-info/WHEEL"):
        status = wheel.stat()
        archives[status.st_dev, status.st_ino] = wheel.parent.parent
    linked = set()
    for wheel in project.glob(".venv/lib/python3*/site-packages/*.dist-info/WHEEL"):
        status = wheel.stat()
        if (status.st_dev, status.st_ino) in archives:
            linked.add(archives[status.st_dev, status.st_ino])
    if not linked:
        return
    # One project at a time compiles (with every core); the next finds the files up to date.
    with (cache.parent / f"{cache.name}-bytecode.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(
            [project / ".venv" / "bin" / "python", "-m", "compileall", "-q", "-j", "0",
             "-x", DATA_FILES, *sorted(linked)],
            env=environment, capture_output=True, check=False,
        )  # fmt: skip
