"""Render the template as users do (copier's API), from the working tree, with checked answers."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tarfile
from functools import cache
from pathlib import Path
from typing import Any

import copier
import yaml
from copier._main import Worker
from copier._vcs import get_git
from jinja2.sandbox import SandboxedEnvironment
from plumbum import ProcessExecutionError

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]
SCENARIOS_DIR = Path(__file__).resolve().parent / "scenarios"


def _ask_git_for_the_file_mode_once_per_render() -> None:
    """copier 9.19 asks git for the destination's `core.fileMode` once per rendered file, one
    process each: a third of a render's time, and the tests render hundreds of projects. The
    setting cannot change during a render, so ask once per render and call copier's own index
    sync exactly where copier would act on it (`core.fileMode` false); the files written are the
    same. Fails at import if copier renames the method, rather than silently doing nothing."""
    sync = Worker._sync_git_index_executable_bit

    def sync_once(self: Worker, dst_relpath: Path, src_mode: int) -> None:
        if not hasattr(self, "_file_mode_ignored"):
            git = get_git(context_dir=self.subproject.local_abspath)
            try:
                setting = git("config", "--type=bool", "--get", "core.fileMode").strip()
            except (ProcessExecutionError, OSError):
                setting = ""  # not a git repository, or the key is unset: copier does nothing
            self._file_mode_ignored = setting == "false"
        if self._file_mode_ignored:
            sync(self, dst_relpath, src_mode)

    sync_once.original = sync  # type: ignore[attr-defined]
    Worker._sync_git_index_executable_bit = sync_once  # type: ignore[method-assign]


_ask_git_for_the_file_mode_once_per_render()


def _compile_each_template_once() -> None:
    """copier builds a new Jinja environment for each render, so every file, path and answer
    template is parsed and turned into Python again each time: two thirds of a render's time. That
    Python source depends only on the template source, its name and the environment's syntax
    settings: keep it per process, and let Jinja compile it to bytecode with each render's own file
    name, as it would (tests/test_render.py checks that a render is byte for byte the same)."""
    compile_source = SandboxedEnvironment.compile
    python_sources: dict[tuple[Any, ...], str] = {}

    def compile_once(
        self: SandboxedEnvironment,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if not isinstance(source, str):
            return compile_source(self, source, name, filename, raw, defer_init)
        key = (source, name, defer_init, *syntax(self))
        if key not in python_sources:
            python_sources[key] = compile_source(self, source, name, filename, True, defer_init)
        if raw:
            return python_sources[key]
        return self._compile(python_sources[key], "<template>" if filename is None else filename)

    compile_once.original = compile_source  # type: ignore[attr-defined]
    SandboxedEnvironment.compile = compile_once  # type: ignore[method-assign]


def syntax(environment: SandboxedEnvironment) -> tuple[Any, ...]:
    """What the code Jinja compiles depends on besides the source."""
    return (
        type(environment),
        environment.block_start_string,
        environment.block_end_string,
        environment.variable_start_string,
        environment.variable_end_string,
        environment.comment_start_string,
        environment.comment_end_string,
        environment.line_statement_prefix,
        environment.line_comment_prefix,
        environment.trim_blocks,
        environment.lstrip_blocks,
        environment.newline_sequence,
        environment.keep_trailing_newline,
        tuple(sorted(environment.extensions)),
        environment.optimized,
        environment.is_async,
        repr(environment.autoescape),
        environment.undefined,
        environment.finalize,
    )


_compile_each_template_once()


@cache
def copier_config() -> dict[str, Any]:
    return yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))


@cache
def questions() -> dict[str, dict[str, Any]]:
    """The questions copier.yml defines (settings start with `_`)."""
    return {key: value for key, value in copier_config().items() if not key.startswith("_")}


def asked_questions() -> dict[str, dict[str, Any]]:
    """The questions a user can answer (computed values are `when: false`)."""
    return {key: q for key, q in questions().items() if q.get("when", True) is not False}


def check_answer_keys(answers: dict[str, Any]) -> None:
    """A misspelt key would silently test the default instead: refuse it."""
    unknown = set(answers) - set(asked_questions())
    if unknown:
        raise KeyError(f"answers not defined by copier.yml: {sorted(unknown)}")


def scenario_names() -> list[str]:
    return sorted(path.stem for path in SCENARIOS_DIR.glob("*.yml"))


def scenario_data(name: str) -> dict[str, Any]:
    return yaml.safe_load((SCENARIOS_DIR / f"{name}.yml").read_text(encoding="utf-8"))


def scenario(name: str) -> dict[str, Any]:
    return scenario_data(name).get("answers") or {}


def scenario_runner(name: str) -> str:
    """What runs the scenario's project in the slow tier: its README's commands (`readme`), or
    `gitlab-ci-local`, GitLab's pipeline runner for a laptop, executing its CI's `ci` job."""
    return scenario_data(name).get("run_by", "readme")


GIT = [
    "git",
    "-c",
    "user.name=test",
    "-c",
    "user.email=test@example.com",
    "-c",
    "init.defaultBranch=main",
]


def git(*args: str, cwd: Path) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def copy_working_tree(dst: Path) -> None:
    """Copy the template's tracked and untracked-but-not-ignored files into `dst`."""
    files = git("ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=TEMPLATE_ROOT)
    for name in filter(None, files.split("\0")):
        source = TEMPLATE_ROOT / name
        if source.is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dst / name)


def snapshot(dst: Path) -> Path:
    """A git repository holding the template's working tree (uncommitted changes included), so
    that every test renders what is on disk, the way `copier copy` renders a released tag."""
    dst.mkdir(parents=True, exist_ok=True)
    copy_working_tree(dst)
    git("init", "--quiet", cwd=dst)
    git("add", "--all", cwd=dst)
    git("commit", "--quiet", "--no-verify", "-m", "snapshot", cwd=dst)
    return dst


def releases() -> list[dict[str, str]]:
    """Released versions, oldest first (releases.yml: works in a clone without tags)."""
    data = yaml.safe_load((TEMPLATE_ROOT / "releases.yml").read_text(encoding="utf-8"))
    return data["releases"]


def history(dst: Path, release: dict[str, str]) -> Path:
    """A template repository whose history is `release` (tagged with its version) and then the
    working tree as HEAD: what a user's `copier update` sees after a new commit on main."""
    dst.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", release["commit"]],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dst, filter="data")
    git("init", "--quiet", cwd=dst)
    git("add", "--all", cwd=dst)
    git("commit", "--quiet", "--no-verify", "-m", f"release {release['version']}", cwd=dst)
    git("tag", release["version"], cwd=dst)
    git("rm", "-r", "--quiet", ".", cwd=dst)
    copy_working_tree(dst)
    git("add", "--all", cwd=dst)
    git("commit", "--quiet", "--no-verify", "--allow-empty", "-m", "working tree", cwd=dst)
    return dst


def render(
    answers: dict[str, Any], dst: Path, template: Path | str = TEMPLATE_ROOT, vcs_ref: str = "HEAD"
) -> Path:
    """Render `answers` (others take their defaults) into `dst` with copier's own API."""
    check_answer_keys(answers)
    copier.run_copy(str(template), dst, data=answers, defaults=True, vcs_ref=vcs_ref, quiet=True)
    return dst


def readme_commands(project: Path) -> list[str]:
    """The lines of the README's first shell block, in order, comments removed (a blank line
    stays an empty string, so a test can see it)."""
    readme = (project / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", readme, re.DOTALL)
    assert block is not None, "the README has no shell block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines()]


def rendered_files(root: Path) -> list[str]:
    """Every file of a render, as sorted POSIX paths relative to its root."""
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    )
