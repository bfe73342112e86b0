"""CI/CD for every ci_provider (component C1): static tier.

Each provider's files render for every answer set, pass the real validators offline
(check-jsonschema's vendored schemas, actionlint, zizmor) and implement the same logical jobs,
read from the one list in includes/ci.jinja, with the project's own commands and nothing else.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jinja2
import pytest
import yaml
from rendering import render
from tools import run, tool

ROOT = Path(__file__).resolve().parents[1]
COPIER = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))
PROVIDERS = list(COPIER["ci_provider"]["choices"])

# Answer sets every provider is rendered with: the whole loop, and the local loop only.
VARIANTS = {
    "serving=fastapi-feedback_loop=true-deployment_targets=compose,kubernetes": {
        "model_serving": "fastapi",
        "feedback_loop": True,
        "deployment_targets": ["docker_compose", "kubernetes"],
    },
    "serving=none-feedback_loop=false-data_versioning=none-experiment_tracking=none": {
        "model_serving": "none",
        "feedback_loop": False,
        "data_versioning": "none",
        "experiment_tracking": "none",
    },
}
CASES = [
    pytest.param(
        provider, variant, id=f"ci={provider}-{variant}", marks=pytest.mark.xdist_group(provider)
    )
    for provider in PROVIDERS
    for variant in VARIANTS
]
ACTIVE_CASES = [case for case in CASES if case.values[0] != "none"]


def cases_of(provider: str) -> list:
    """The answer sets of one provider, with ids that read like the answers."""
    return [
        pytest.param(
            variant, id=f"ci={provider}-{variant}", marks=pytest.mark.xdist_group(provider)
        )
        for variant in VARIANTS
    ]


# The file or folder that holds each provider's pipeline definitions.
PROVIDER_ROOTS = {
    "github_actions": ".github",
    "gitlab_ci": ".gitlab-ci.yml",
    "azure_pipelines": ".azure-pipelines",
    "jenkins": "Jenkinsfile",
    "travis_ci": ".travis.yml",
}

# `uses: owner/action@<full commit SHA> # vX.Y.Z`
PINNED_ACTION = re.compile(r"\s*(?:- )?uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+")

# GitLab keys that configure the pipeline rather than name a job.
GITLAB_KEYWORDS = {
    "default", "include", "stages", "variables", "workflow",
    "image", "services", "cache", "before_script", "after_script",
}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Rendering and the one list of logical jobs
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def ci_project(template: Path, tmp_path_factory: pytest.TempPathFactory):
    """Render once per answer set and worker."""
    renders: dict[str, Path] = {}

    def _render(provider: str, variant: str, **extra: str) -> Path:
        answers = {"ci_provider": provider, **VARIANTS[variant], **extra}
        key = json.dumps(answers, sort_keys=True)
        if key not in renders:
            dst = tmp_path_factory.mktemp("ci") / "project"
            renders[key] = render(answers, dst, template=template)
        return renders[key]

    return _render


def template_env() -> jinja2.Environment:
    envops = COPIER["_envops"]
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROOT),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=envops["keep_trailing_newline"],
        trim_blocks=envops["trim_blocks"],
        lstrip_blocks=envops["lstrip_blocks"],
    )


def answers_of(project: Path) -> dict:
    """The project's answers plus the derived (when: false) values, computed as copier.yml does."""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    env = template_env()
    derived = {
        name: question
        for name, question in COPIER.items()
        if not name.startswith("_") and question.get("when") is False
    }
    for name, question in derived.items():
        try:
            value = env.from_string(str(question["default"])).render(**answers)
        except jinja2.TemplateError:  # needs copier's extensions; ci.jinja would name it if used
            continue
        answers[name] = value == "True" if question.get("type") == "bool" else value
    return answers


def logical_jobs(project: Path) -> list[dict]:
    """includes/ci.jinja's ci_jobs for this project's answers: the one list every test reads."""
    module = template_env().get_template("includes/ci.jinja").make_module(answers_of(project))
    return list(module.ci_jobs)


# --------------------------------------------------------------------------------------------
# Each provider's jobs, as {job id: [command lines]}
# --------------------------------------------------------------------------------------------
def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def github_jobs(project: Path) -> dict[str, list[str]]:
    jobs = {}
    for workflow in sorted((project / ".github" / "workflows").glob("*.yml")):
        for job_id, job in load_yaml(workflow)["jobs"].items():
            jobs[job_id] = [step["run"] for step in job.get("steps", []) if "run" in step]
    return jobs


def gitlab_jobs(project: Path) -> dict[str, list[str]]:
    pipeline = load_yaml(project / ".gitlab-ci.yml")
    return {
        name: list(job["script"])
        for name, job in pipeline.items()
        if name not in GITLAB_KEYWORDS and not name.startswith(".")
    }


def azure_jobs(project: Path) -> dict[str, list[str]]:
    jobs = {}
    for path in sorted((project / ".azure-pipelines").glob("*.yml")):
        pipeline = load_yaml(path)
        staged = [job for stage in pipeline.get("stages", []) for job in stage["jobs"]]
        for job in staged + pipeline.get("jobs", []):
            steps = job.get("steps") or job["strategy"]["runOnce"]["deploy"]["steps"]
            name = job.get("job") or job["deployment"]
            jobs[name] = [step["script"] for step in steps if "script" in step]
    return jobs


def jenkins_stages(project: Path) -> dict[str, list[str]]:
    text = (project / "Jenkinsfile").read_text(encoding="utf-8")
    starts = list(re.finditer(r"stage\('([^']+)'\)", text))
    stages = {}
    for start, end in zip(starts, [*starts[1:], None], strict=True):
        block = text[start.end() : end.start() if end else len(text)]
        stages[start.group(1)] = re.findall(r"sh '([^']*)'", block)
    return stages


def travis_jobs(project: Path) -> dict[str, list[str]]:
    include = load_yaml(project / ".travis.yml")["jobs"]["include"]
    return {job["name"]: list(job["script"]) for job in include}


PROVIDER_JOBS = {
    "github_actions": github_jobs,
    "gitlab_ci": gitlab_jobs,
    "azure_pipelines": azure_jobs,
    "jenkins": jenkins_stages,
    "travis_ci": travis_jobs,
}


def github_needs(project: Path) -> dict[str, set[str]]:
    needs = {}
    for workflow in sorted((project / ".github" / "workflows").glob("*.yml")):
        for job_id, job in load_yaml(workflow)["jobs"].items():
            direct = job.get("needs", [])
            needs[job_id] = {direct} if isinstance(direct, str) else set(direct)
    return needs


def gitlab_needs(project: Path) -> dict[str, set[str]]:
    pipeline = load_yaml(project / ".gitlab-ci.yml")
    return {name: set(pipeline[name].get("needs", [])) for name in gitlab_jobs(project)}


def azure_needs(project: Path) -> dict[str, set[str]]:
    """A job waits for every job of the stages its stage depends on."""
    needs = {}
    for path in sorted((project / ".azure-pipelines").glob("*.yml")):
        stages = {stage["stage"]: stage for stage in load_yaml(path).get("stages", [])}
        jobs_of = {
            name: {job.get("job") or job["deployment"] for job in stage["jobs"]}
            for name, stage in stages.items()
        }
        for name, stage in stages.items():
            depends = stage.get("dependsOn", [])
            before = set().union(
                *(jobs_of[d] for d in ([depends] if isinstance(depends, str) else depends))
            )
            needs.update({job: before for job in jobs_of[name]})
    return needs


def in_sequence(groups: list[list[str]]) -> dict[str, set[str]]:
    """Groups that run one after the other: each waits for the group before it."""
    return {
        name: set(groups[i - 1]) if i else set() for i, group in enumerate(groups) for name in group
    }


def jenkins_needs(project: Path) -> dict[str, set[str]]:
    return in_sequence([[stage] for stage in jenkins_stages(project)])


def travis_needs(project: Path) -> dict[str, set[str]]:
    travis = load_yaml(project / ".travis.yml")
    jobs = travis["jobs"]["include"]
    groups = [
        [job["name"] for job in jobs if job["stage"] == stage["name"]] for stage in travis["stages"]
    ]
    return in_sequence([group for group in groups if group])


PROVIDER_NEEDS = {
    "github_actions": github_needs,
    "gitlab_ci": gitlab_needs,
    "azure_pipelines": azure_needs,
    "jenkins": jenkins_needs,
    "travis_ci": travis_needs,
}


def waits_for(needs: dict[str, set[str]], job: str) -> set[str]:
    """Every job that `job` waits for, directly or through others."""
    seen: set[str] = set()
    todo = list(needs[job])
    while todo:
        other = todo.pop()
        if other not in seen:
            seen.add(other)
            todo.extend(needs[other])
    return seen


def run_condition(provider: str, project: Path, job: str) -> str | None:
    """When a job of a provider that runs its stages in a row (skipping one whose condition is
    false, then going on) runs; None for providers where a job waits for the jobs it needs."""
    if provider == "jenkins":
        text = (project / "Jenkinsfile").read_text(encoding="utf-8")
        block = text.split(f"stage('{job}')", 1)[1]
        return re.search(r"when \{.*?\n {12}\}", block, re.DOTALL).group(0)
    if provider == "travis_ci":
        stages = load_yaml(project / ".travis.yml")["stages"]
        return next(stage["if"] for stage in stages if stage["name"] == job)
    return None


def logical_name(job_id: str) -> str:
    """deploy-staging, deploy_production -> deploy: a provider may split a logical job."""
    return re.split(r"[-_]", job_id)[0]


# --------------------------------------------------------------------------------------------
# Validators (installed by the test dependency group)
# --------------------------------------------------------------------------------------------
def check_schema(schema: str, files: list[Path], *options: str) -> None:
    assert files, f"no files to check against {schema}"
    run(tool("check-jsonschema"), *options, "--builtin-schema", schema, *map(str, files))


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("provider", "variant"), CASES)
def test_only_the_chosen_providers_files_render(provider, variant, ci_project):
    project = ci_project(provider, variant)
    present = {name for name, path in PROVIDER_ROOTS.items() if (project / path).exists()}
    assert present == ({provider} if provider != "none" else set())
    bot = {"github_actions": ".github/dependabot.yml", "none": None}.get(provider, "renovate.json")
    assert (project / "renovate.json").exists() == (bot == "renovate.json")
    assert (project / "docs" / "ci.md").exists() == (provider != "none")


@pytest.mark.parametrize(("provider", "variant"), ACTIVE_CASES)
def test_provider_files_parse_and_hold_no_jinja(provider, variant, ci_project):
    project = ci_project(provider, variant)
    root = project / PROVIDER_ROOTS[provider]
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    files += [p for p in (project / "renovate.json", project / "docs" / "ci.md") if p.exists()]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\{%|%\}|\{#|#\}", text), path.name
        if path.suffix == ".yml":
            yaml.safe_load(text)
        elif path.suffix == ".json":
            json.loads(text)


@pytest.mark.parametrize(("provider", "variant"), ACTIVE_CASES)
def test_provider_files_pass_their_schemas(provider, variant, ci_project):
    project = ci_project(provider, variant)
    if provider == "github_actions":
        workflows = sorted((project / ".github" / "workflows").glob("*.yml"))
        check_schema("vendor.github-workflows", workflows)
        check_schema("custom.github-workflows-require-timeout", workflows)
        check_schema("vendor.dependabot", [project / ".github" / "dependabot.yml"])
    else:
        check_schema("vendor.renovate", [project / "renovate.json"])
    if provider == "gitlab_ci":
        check_schema("vendor.gitlab-ci", [project / ".gitlab-ci.yml"])
    if provider == "azure_pipelines":
        # The vendored Azure schema's patterns are not valid in unicode mode.
        files = sorted((project / ".azure-pipelines").rglob("*.yml"))
        check_schema("vendor.azure-pipelines", files, "--regex-variant", "nonunicode")
    if provider == "travis_ci":
        check_schema("vendor.travis", [project / ".travis.yml"])


@pytest.mark.parametrize("variant", cases_of("github_actions"))
def test_github_workflows_pass_actionlint_and_zizmor(variant, ci_project):
    project = ci_project("github_actions", variant)
    workflows = sorted(str(p) for p in (project / ".github" / "workflows").glob("*.yml"))
    run(tool("actionlint"), "-no-color", *workflows)
    # zizmor's default persona and severity; --offline: no audit that needs GitHub's API.
    run(tool("zizmor"), "--offline", "--no-progress", ".", cwd=project)


@pytest.mark.parametrize("variant", cases_of("github_actions"))
def test_github_actions_are_pinned_to_commits(variant, ci_project):
    project = ci_project("github_actions", variant)
    pins: dict[str, set[str]] = {}
    for workflow in (project / ".github" / "workflows").glob("*.yml"):
        for line in workflow.read_text(encoding="utf-8").splitlines():
            if "uses:" not in line:
                continue
            match = PINNED_ACTION.fullmatch(line)
            assert match, f"{workflow.name}: not pinned to a full commit SHA with a version: {line}"
            pins.setdefault(match[1], set()).add(line.split("@", 1)[1])
    assert all(len(refs) == 1 for refs in pins.values()), f"one action, several pins: {pins}"


@pytest.mark.parametrize(("provider", "variant"), ACTIVE_CASES)
def test_every_provider_has_exactly_the_logical_jobs(provider, variant, ci_project):
    project = ci_project(provider, variant)
    expected = [job["name"] for job in logical_jobs(project)]
    found = {logical_name(job_id) for job_id in PROVIDER_JOBS[provider](project)}
    assert found == set(expected), f"{provider} has jobs {sorted(found)}, the list says {expected}"
    docs = (project / "docs" / "ci.md").read_text(encoding="utf-8")
    assert all(f"| `{name}` |" in docs for name in expected)


@pytest.mark.parametrize(("provider", "variant"), ACTIVE_CASES)
def test_jobs_run_the_project_commands_and_nothing_else(provider, variant, ci_project):
    project = ci_project(provider, variant)
    commands = {job["name"]: job["commands"] for job in logical_jobs(project)}
    for job_id, lines in PROVIDER_JOBS[provider](project).items():
        name = logical_name(job_id)
        if name == "deliver":  # the provider's own image build, from the project's Dockerfile
            assert all(re.search(r"\bdocker (login|build|push) ", line) for line in lines), lines
            assert any("docker build --file Dockerfile " in line for line in lines) or not lines
        else:
            assert lines == commands[name], f"{provider} job {job_id} runs {lines}"


@pytest.mark.parametrize(("provider", "variant"), ACTIVE_CASES)
def test_every_command_a_job_runs_is_a_makefile_target(provider, variant, ci_project):
    project = ci_project(provider, variant)
    targets = set(re.findall(r"^([a-z][\w-]*):", (project / "Makefile").read_text(), re.MULTILINE))
    for job in logical_jobs(project):
        for command in job["commands"]:
            # make TARGET, with make variables (NAME=value) after it
            make, target, *assignments = command.split()
            assert make == "make", f"{job['name']}: {command}"
            assert target in targets, f"{job['name']}: {command}"
            assert all(re.fullmatch(r"[A-Z_]+=\S+", item) for item in assignments), command


@pytest.mark.parametrize(
    "provider",
    [
        pytest.param(p, id=f"ci={p}-{next(iter(VARIANTS))}", marks=pytest.mark.xdist_group(p))
        for p in PROVIDERS
        if p != "none"
    ],
)
def test_production_is_deployed_only_after_staging_passed_its_load_test(provider, ci_project):
    project = ci_project(provider, next(iter(VARIANTS)))
    needs = PROVIDER_NEEDS[provider](project)
    by_logical = {}
    for job_id in needs:
        by_logical.setdefault(logical_name(job_id), []).append(job_id)
    [staging] = [job for job in by_logical["deploy"] if "staging" in job]
    [production] = [job for job in by_logical["deploy"] if "production" in job]
    [loadtest] = by_logical["loadtest"]
    assert "staging" in loadtest
    assert staging in waits_for(needs, loadtest)
    assert loadtest in waits_for(needs, production)
    # Where a skipped stage does not stop the next ones, the load test runs whenever staging is
    # deployed.
    assert run_condition(provider, project, loadtest) == run_condition(provider, project, staging)
    commands = PROVIDER_JOBS[provider](project)[loadtest]
    assert any(command.startswith("make loadtest URL=") for command in commands)


# A make call where a command starts: a YAML list item, `run:`/`script:`, Groovy's `sh '...'`, or
# after `&&`, `||`, `;`; `make lint test` and `make -s deploy` call each of their targets.
COMMAND_START = re.compile(
    r"(?:^\s*(?:-\s+)?(?:(?:run|script):\s*)?|&&|\|\||;)"  # where a command may start
    r"""\s*(?:sh\s+)?["'|>]?\s*make\b"""
)
MAKE_ARGUMENTS = re.compile(r"[ \t]+(-[\w-]+|[a-z][\w-]*)(?=[ \t\"';&|]|$)")


def make_calls(path: Path) -> list[str]:
    """The make targets a provider file calls, comments left out."""
    targets = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith(("#", "//")):
            continue
        for call in COMMAND_START.finditer(line):
            position = call.end()
            while argument := MAKE_ARGUMENTS.match(line, position):
                if not argument[1].startswith("-"):
                    targets.append(argument[1])
                position = argument.end()
    return targets


@pytest.mark.parametrize(("provider", "variant"), ACTIVE_CASES)
def test_the_provider_files_call_only_targets_of_the_makefile(provider, variant, ci_project):
    """Read from the rendered files themselves, not from the list they are rendered from."""
    project = ci_project(provider, variant)
    root = project / PROVIDER_ROOTS[provider]
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
    targets = set(re.findall(r"^([a-z][\w-]*):", (project / "Makefile").read_text(), re.MULTILINE))
    called = {(path.relative_to(project).as_posix(), t) for path in files for t in make_calls(path)}
    assert {target for _, target in called} >= {"lint", "test"}
    assert {(path, target) for path, target in called if target not in targets} == set()


@pytest.mark.parametrize("variant", cases_of("jenkins"))
def test_jenkinsfile_stages_follow_the_logical_jobs(variant, ci_project):
    project = ci_project("jenkins", variant)
    text = (project / "Jenkinsfile").read_text(encoding="utf-8")
    assert text.count("{") == text.count("}"), "unbalanced braces"
    assert text.count("(") == text.count(")"), "unbalanced parentheses"
    assert re.search(r"^pipeline \{$", text, re.MULTILINE)
    order = []
    for stage in jenkins_stages(project):
        if logical_name(stage) not in order:
            order.append(logical_name(stage))
    assert order == [job["name"] for job in logical_jobs(project)]
    for keyword in ("timeout(", "disableConcurrentBuilds()", "cron("):
        assert keyword in text
    assert ("input {" in text) == ("deploy" in order), "production waits for an approval"


@pytest.mark.parametrize(
    "provider",
    [
        pytest.param(
            p,
            id=f"ci={p}-serving=fastapi-project_name=Churn Model",
            marks=pytest.mark.xdist_group(p),
        )
        for p in PROVIDERS
        if p != "none"
    ],
)
def test_image_is_named_from_the_answers(provider, ci_project):
    variant = next(iter(VARIANTS))
    project = ci_project(provider, variant, project_name="Churn Model")
    definitions = project / PROVIDER_ROOTS[provider]
    files = [definitions] if definitions.is_file() else sorted(definitions.rglob("*.yml"))
    text = "".join(path.read_text(encoding="utf-8") for path in files)
    assert "churn-model" in text
    assert "ml-project" not in text
    assert "--password " not in text and "-p $" not in text, "registry passwords go through stdin"


@pytest.mark.parametrize(
    ("preset", "provider"),
    [("starter", "none"), ("production", "github_actions"), ("platform", "github_actions")],
    ids=lambda value: value,
)
def test_ci_provider_default_follows_the_preset(preset, provider, render_project):
    project = render_project({"preset": preset})
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["ci_provider"] == provider
