"""Running the validators and the generated projects' own commands from the tests."""

from __future__ import annotations

import importlib.util
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


def node_tool(package: str, name: str) -> Path:
    """An executable of a Node package pinned in tests/<package> (package.json and its lockfile).
    Missing on CI fails the test (.ci/run installs it); elsewhere it skips with the command."""
    found = Path(__file__).parent / package / "node_modules" / ".bin" / name
    if not found.exists():
        if os.environ.get("CI"):
            pytest.fail(f"tests/{package} is not installed on CI; .ci/run installs it")
        pytest.skip(f"run `npm ci --prefix tests/{package}` for {name}")
    return found


def uv_cache_dir() -> Path:
    """The package cache uv uses in a project's environment (the user's, shared by projects)."""
    command = ["uv", "cache", "dir"]
    output = subprocess.run(
        command, env=project_environment(), capture_output=True, text=True, check=True
    ).stdout
    return Path(output.strip())


def share_the_bytecode_of_cached_packages(project: Path) -> None:
    """Link the bytecode the project's runs wrote for the packages its environment links from
    uv's cache into the cache itself. The slow tier's projects share one cache and install its
    packages as hard links, so every environment made after this gets that bytecode with the
    files, instead of compiling again what each project imports on first use (a default
    project's scenario took 258 s instead of 271 s). Nothing is compiled for it, and Python checks
    each file's bytecode against its source (the same file, linked), so nothing stale is loaded.
    Where the environment copied its files instead (another file system), nothing is linked."""
    archives = {}
    for wheel in uv_cache_dir().glob("archive-v0/*/*.dist-info/WHEEL"):
        status = wheel.stat()
        archives[status.st_dev, status.st_ino] = wheel.parent.parent
    for site_packages in project.glob(".venv/lib/python3*/site-packages"):
        # Each top-level entry of the environment, and the cached package it was linked from.
        owners: dict[str, Path] = {}
        for wheel in site_packages.glob("*.dist-info/WHEEL"):
            status = wheel.stat()
            archive = archives.get((status.st_dev, status.st_ino))
            if archive is not None:
                owners.update({entry.name: archive for entry in archive.iterdir()})
        for top, archive in owners.items():
            for bytecode in (site_packages / top).glob("**/__pycache__/*.pyc"):
                link_into_the_archive(bytecode, site_packages, archive)


def link_into_the_archive(bytecode: Path, site_packages: Path, archive: Path) -> None:
    """Link one bytecode file beside its source in the archive, if that source is the very file
    the environment imported (the same inode) and the archive has no bytecode for it yet. A
    wheel's `<name>.data/` folder is left alone: uv installs it by its RECORD."""
    try:
        source = Path(importlib.util.source_from_cache(str(bytecode)))
        cached_source = archive / source.relative_to(site_packages)
        target = cached_source.parent / "__pycache__" / bytecode.name
        if not os.path.samefile(source, cached_source) or target.exists():
            return
        target.parent.mkdir(exist_ok=True)
        os.link(bytecode, target)
    except (OSError, ValueError):
        return  # not Python's own bytecode (pytest's rewritten tests), no such source in the
        # archive, another file system, or linked meanwhile
