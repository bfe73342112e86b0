"""The front door for every development task of the template: `nox -l` lists them."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests"]
nox.options.error_on_missing_interpreters = True


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite: questions, renders, validators and the generated projects (slow).
    The slowest tests are listed at the end, to keep the suite inside CI's time."""
    session.install("--group", "test")
    session.run("pytest", "--durations=15", *session.posargs)


@nox.session
def fast(session: nox.Session) -> None:
    """Everything but the slow tier that runs the generated projects."""
    session.install("--group", "test")
    session.run("pytest", "-m", "not slow", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff over the template's own Python (the generated code is linted by its own project)."""
    session.install("--group", "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def bench(session: nox.Session) -> None:
    """Render and pipeline timings, as ratios against a baseline measured in the same run
    (`-- --serving`: the prediction service; `-- --features`: the Spark and pandas features)."""
    session.install("--group", "bench")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(name="scenario_files")
def scenario_files(session: nox.Session) -> None:
    """Rewrite each scenario's expected file list from a fresh render (review the diff)."""
    session.install("--group", "test")
    session.run("python", "tests/update_scenarios.py")


@nox.session
def docs(session: nox.Session) -> None:
    """Regenerate docs/questions.md from copier.yml, then build the site strictly into site/."""
    session.install("--group", "docs")
    session.run("python", "docs/generate.py")
    session.run("mkdocs", "build", "--strict", env={"NO_MKDOCS_2_WARNING": "1"})
