"""The scale-out answers (C3, C5). The training Job on Kubernetes: kubernetes-validate --strict
and kustomize, the project's own pipeline command in the project's image, its own service account,
locked down. Kubeflow: the pipeline compiles (`make kubeflow`'s command) to an IR with one
component per step of steps.py, and runs on this machine with KFP's local runner (slow). Airflow:
the DAG imports in its own environment, its pods pass the Kubernetes schema, and `airflow dags
test` runs it on this machine (slow)."""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from rendering import render
from tools import (
    project_environment,
    run,
    share_the_bytecode_of_cached_packages,
    tool,
    yaml_documents,
)

# Non-default names, so a hard-coded name would show.
SLUG, PACKAGE = "churn-scorer", "churn_scorer"
KUBERNETES_TRAINING: dict[str, Any] = {
    "project_name": "Churn Scorer",
    "model_serving": "fastapi",
    "experiment_tracking": "mlflow",
    "training_infrastructure": "kubernetes",
    "feedback_loop": True,
}


def document(path: Path) -> dict[str, Any]:
    (only,) = yaml_documents(path)
    return only


def make_environment(project: Path) -> dict[str, str]:
    """A user's environment for the project's make targets: its Python, uv on the PATH."""
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    environment = project_environment(
        UV_PYTHON=recorded["python_version"], UV_PYTHON_DOWNLOADS="never"
    )
    environment["PATH"] = f"{Path(tool('uv')).parent}{os.pathsep}{environment['PATH']}"
    return environment


def project_steps(project: Path, environment: dict[str, str]) -> list[str]:
    """The names of the project's STEPS, from its own environment."""
    probe = f"import json; from {PACKAGE}.steps import STEPS; "
    probe += "print(json.dumps([step.name for step in STEPS]))"
    uv_run = [tool("uv"), "run", "--no-sync", "python", "-c", probe]
    return json.loads(run(*uv_run, cwd=project, env=environment, stdout_only=True))


CHAMPION = """
import json, sys, mlflow
client = mlflow.MlflowClient()
version = client.get_model_version_by_alias(sys.argv[1], sys.argv[2])
run = client.get_run(version.run_id)
print(json.dumps({"version": int(version.version), "run_id": version.run_id,
                  "params": run.data.params}))
"""


def champion(folder: Path, project: Path, environment: dict[str, str]) -> dict[str, Any]:
    """The registry's champion in `folder`'s MLflow store (the default, sqlite:///mlflow.db),
    named as params.yaml names it: version, run and the run's params."""
    registry = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))["registry"]
    output = run(tool("uv"), "run", "--no-sync", "--project", project, "python", "-c", CHAMPION,
                 registry["model_name"], registry["alias"], cwd=folder, env=environment,
                 stdout_only=True)  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


# --- training on Kubernetes ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster_training(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    destination = tmp_path_factory.mktemp("kubernetes-training") / "project"
    project = render(KUBERNETES_TRAINING, destination, template)
    return project / "deploy" / "kubernetes-training"


def test_training_manifests_pass_strict_schema_validation(cluster_training: Path) -> None:
    manifests = sorted(p for p in cluster_training.glob("*.yaml") if p.name != "kustomization.yaml")
    assert [p.name for p in manifests] == [
        "configmap.yaml", "cronjob.yaml", "job.yaml", "serviceaccount.yaml"
    ]  # fmt: skip
    output = run(tool("kubernetes-validate"), "--strict", *manifests)
    assert "WARN" not in output and "ERROR" not in output, output
    assert output.count(" passed for resource ") == len(manifests)
    kustomization = yaml.safe_load((cluster_training / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == [p.name for p in manifests]
    built = run(tool("kubectl"), "kustomize", cluster_training)
    output = run(tool("kubernetes-validate"), "--strict", "-", stdin=built)
    assert "WARN" not in output and "ERROR" not in output, output


def test_the_training_job_runs_the_project_pipeline_in_the_project_image(
    cluster_training: Path,
) -> None:
    job = document(cluster_training / "job.yaml")
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == SLUG
    assert container["command"] == [
        "python", "-m", PACKAGE, "--params", f"/etc/{SLUG}/params.yaml", "pipeline"
    ]  # fmt: skip
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    assert pod["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] >= 1 and job["spec"]["activeDeadlineSeconds"] > 0
    # The tracking URI comes from the training ConfigMap, credentials from an optional Secret.
    references = {next(iter(ref)): ref[next(iter(ref))]["name"] for ref in container["envFrom"]}
    assert references == {"configMapRef": f"{SLUG}-training", "secretRef": f"{SLUG}-mlflow"}
    configmap = document(cluster_training / "configmap.yaml")
    assert configmap["metadata"]["name"] == f"{SLUG}-training"
    assert configmap["data"]["MLFLOW_TRACKING_URI"].startswith("http")


def test_the_training_pod_is_non_root_read_only_with_its_own_account(
    cluster_training: Path,
) -> None:
    pod = document(cluster_training / "job.yaml")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    account = document(cluster_training / "serviceaccount.yaml")
    assert pod["serviceAccountName"] == account["metadata"]["name"] == f"{SLUG}-training"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    # Every path the pipeline writes is a volume: the working directory and /tmp.
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    assert "emptyDir" in volumes[mounts[container["workingDir"]]]
    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert volumes[mounts[f"/etc/{SLUG}"]]["configMap"]["name"] == f"{SLUG}-params"


def test_scheduled_retraining_runs_the_same_job(cluster_training: Path) -> None:
    job = document(cluster_training / "job.yaml")["spec"]
    cronjob = document(cluster_training / "cronjob.yaml")["spec"]
    assert cronjob["concurrencyPolicy"] == "Forbid"
    assert len(cronjob["schedule"].split()) == 5
    assert cronjob["jobTemplate"]["spec"] == {
        k: v for k, v in job.items() if k != "ttlSecondsAfterFinished"
    }


def test_make_train_cluster_creates_the_params_the_job_mounts(cluster_training: Path) -> None:
    makefile = (cluster_training.parents[1] / "Makefile").read_text(encoding="utf-8")
    target = makefile.split("\ntrain-cluster:")[1].split("\n\n")[0]
    assert f"kubectl create configmap {SLUG}-params --from-file=params.yaml" in target
    assert "kubectl kustomize deploy/kubernetes-training" in target
    assert f"job/{SLUG}-train" in target


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"preset": "platform", "model_serving": "fastapi"}, "kubernetes"),
        ({"preset": "platform", "model_serving": "none", "deployment_targets": []}, "local"),
        ({"preset": "production", "model_serving": "fastapi"}, "local"),
    ],
    ids=["platform-serving=fastapi", "platform-serving=none", "production-serving=fastapi"],
)
def test_the_platform_preset_turns_on_the_scale_out_answers_that_fit(
    template: Path, tmp_path: Path, answers: dict[str, Any], expected: str
) -> None:
    """Kubeflow and Kubernetes training need the serving image; Feast needs nothing else."""
    project = render(answers, tmp_path / "project", template)
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert recorded["training_infrastructure"] == expected
    assert recorded["orchestrators"] == (["kubeflow"] if expected == "kubernetes" else [])
    assert recorded["feature_store"] == ("feast" if answers["preset"] == "platform" else "none")
    assert recorded["feature_engine"] == "pandas"


# --- Kubeflow Pipelines --------------------------------------------------------------------------

KUBEFLOW: dict[str, Any] = {
    "project_name": "Churn Scorer",
    "model_serving": "fastapi",
    "experiment_tracking": "mlflow",
    "orchestrators": ["kubeflow"],
}


@pytest.fixture(scope="session")
def kubeflow_ir(
    template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[dict[str, Any]], list[str], Path]:
    """Compile the rendered project's pipeline the way `make kubeflow` does (its runtime
    dependencies and the kubeflow group, without the dev tools). Returns the IR's documents,
    the project's STEPS and the project. Built once per run: xdist workers share it."""
    # Under xdist each worker's base folder sits in the run's own folder, shared by all workers.
    run_folder = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_folder = run_folder.parent
    shared = run_folder / "kubeflow"
    shared.mkdir(exist_ok=True)
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "steps.txt").exists():
            compile_kubeflow_pipeline(template, shared)
    project = shared / "project"
    steps = (shared / "steps.txt").read_text(encoding="utf-8").split()
    documents = list(yaml.safe_load_all((project / "kubeflow" / "pipeline.yaml").read_text()))
    return documents, steps, project


def compile_kubeflow_pipeline(template: Path, shared: Path) -> None:
    project = render(KUBEFLOW, shared / "project", template)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    environment = project_environment(
        UV_PYTHON=answers["python_version"], UV_PYTHON_DOWNLOADS="never"
    )
    uv = tool("uv")
    run(uv, "sync", "--quiet", "--no-dev", "--group", "kubeflow", cwd=project, env=environment)
    run(uv, "run", "--no-sync", "python", "kubeflow/pipeline.py", "compile",
        "kubeflow/pipeline.yaml", "--image", f"registry.example.com/{SLUG}:abc123",
        cwd=project, env=environment)  # fmt: skip
    # The project's own STEPS, written to the file the tests read (its logs go to the output).
    probe = (
        f"import pathlib; from {PACKAGE}.steps import STEPS; "
        f"pathlib.Path({str(shared / 'steps.txt')!r}).write_text(' '.join(s.name for s in STEPS))"
    )
    run(uv, "run", "--no-sync", "python", "-c", probe, cwd=project, env=environment)


@pytest.mark.xdist_group("kubeflow")
def test_the_kubeflow_pipeline_compiles_with_one_component_per_step(
    kubeflow_ir: tuple[list[dict[str, Any]], list[str], Path],
) -> None:
    (spec, _), steps, _ = kubeflow_ir
    assert {"ingest", "validate", "features", "train", "evaluate", "register"} <= set(steps)
    assert spec["pipelineInfo"]["name"] == f"{SLUG}-training"
    components = {name.removeprefix("comp-") for name in spec["components"]}
    assert components == {*steps, "write-params", "createpvc", "deletepvc"}
    tasks = spec["root"]["dag"]["tasks"]
    # The steps run one after the other, in the order of STEPS, after the parameters are written.
    previous = "write-params"
    for step in steps:
        assert previous in tasks[step]["dependentTasks"], step
        previous = step
    assert previous in tasks["deletepvc"]["dependentTasks"]


@pytest.mark.xdist_group("kubeflow")
def test_each_kubeflow_step_runs_the_project_command_in_the_project_image(
    kubeflow_ir: tuple[list[dict[str, Any]], list[str], Path],
) -> None:
    (spec, platform), steps, _ = kubeflow_ir
    executors = spec["deploymentSpec"]["executors"]
    for step in steps:
        container = executors[f"exec-{step}"]["container"]
        assert container["image"] == f"registry.example.com/{SLUG}:abc123"
        assert container["command"][-3:] == ["-m", PACKAGE, step]
        assert container["command"][-4].startswith("python")
    # Every task that runs the image mounts the shared workspace and reads the tracking URI.
    configs = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    for executor in [f"exec-{step}" for step in steps] + ["exec-write-params"]:
        assert configs[executor]["pvcMount"][0]["mountPath"] == "/app/work"
        (config_map,) = configs[executor]["configMapAsEnv"]
        assert config_map["configMapName"] == f"{SLUG}-pipeline"


@pytest.mark.xdist_group("kubeflow")
def test_the_kubeflow_parameters_are_the_sections_of_params_yaml(
    kubeflow_ir: tuple[list[dict[str, Any]], list[str], Path],
) -> None:
    (spec, _), _, project = kubeflow_ir
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    inputs = spec["root"]["inputDefinitions"]["parameters"]
    assert set(inputs) == set(params)
    assert inputs["train"]["defaultValue"] == params["train"]
    assert all(value["parameterType"] == "STRUCT" for value in inputs.values())


# KFP's local runner logs each task it starts and the inputs it hands the task's process.
TASK_STARTED = re.compile(r"Executing task '([^']+)'")
TASK_INPUT = "Got executor_input:"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def local_tasks(log: str) -> list[tuple[str, dict[str, Any], str]]:
    """Each task of a KFP local run, in the order it ran: its name, the parameters KFP passed to
    it, and the rest of its log."""
    log = ANSI.sub("", log)
    starts = list(TASK_STARTED.finditer(log))
    tasks = []
    for start, end in zip(starts, [*starts[1:], None], strict=True):
        text = log[start.end() : end.start() if end else len(log)]
        executor_input, _ = json.JSONDecoder().raw_decode(text.split(TASK_INPUT, 1)[1].lstrip())
        tasks.append((start.group(1), executor_input["inputs"]["parameterValues"], text))
    return tasks


def halve_the_train_c(project: Path) -> float:
    """A non-default train.C in params.yaml, as a team tunes it; returns the new value."""
    path = project / "params.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    train = lines.index("train:\n")
    (index,) = [i for i, line in enumerate(lines) if i > train and line.startswith("  C: ")]
    value = float(lines[index].split(":")[1]) / 2
    lines[index] = f"  C: {value}\n"
    path.write_text("".join(lines), encoding="utf-8")
    return value


@pytest.mark.slow
@pytest.mark.xdist_group("kubeflow")
def test_the_kubeflow_pipeline_runs_locally_with_each_steps_arguments_and_ends_with_a_champion(
    template: Path, tmp_path: Path
) -> None:
    """`make kubeflow-local` on a fresh render: KFP's local runner (SubprocessRunner) runs the
    pipeline's tasks in order, hands each its command and write-params the sections of
    params.yaml, and the steps, reading only what the run wrote, register a champion."""
    project = render(KUBEFLOW, tmp_path / "project", template)
    c = halve_the_train_c(project)
    environment = make_environment(project)
    log = run("make", "kubeflow-local", cwd=project, env=environment)
    steps = project_steps(project, environment)
    workspace = project / "kubeflow" / "local-run"

    tasks = local_tasks(log)
    assert [name for name, _, _ in tasks] == ["write-params", *steps]
    for name, _, text in tasks:
        assert f"Task '{name}' finished with status SUCCESS" in text, text[-3000:]
    assert f"Pipeline '{SLUG}-training' finished with status SUCCESS" in ANSI.sub("", log)
    # The arguments: write-params gets params.yaml's sections (KFP has no null: nulls left out),
    # each step its own command; every task works in the run's folder.
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    sections = {
        name: {key: value for key, value in section.items() if value is not None}
        for name, section in params.items()
    }
    (_, write_params, _), *step_tasks = tasks
    assert write_params["sections"] == sections
    assert write_params["command"][:2] == ["python", "-c"]
    for step, (_, arguments, _) in zip(steps, step_tasks, strict=True):
        assert arguments["command"] == ["python", "-m", PACKAGE, step]
        assert arguments["sections"] == {}
    assert {arguments["folder"] for _, arguments, _ in tasks} == {str(workspace.resolve())}
    # The steps read the parameters the run wrote, not the checkout's file.
    assert yaml.safe_load((workspace / "params.yaml").read_text(encoding="utf-8")) == sections
    registration = json.loads((workspace / "reports" / "registration.json").read_text())
    assert registration["champion"] is True
    found = champion(workspace, project, environment)
    assert (found["version"], found["run_id"]) == (registration["version"], registration["run_id"])
    assert float(found["params"]["train.C"]) == c


# --- Airflow -------------------------------------------------------------------------------------

AIRFLOW: dict[str, Any] = {"project_name": "Churn Scorer", "orchestrators": ["airflow"]}
AIRFLOW_ON_KUBERNETES: dict[str, Any] = {
    **AIRFLOW,
    "model_serving": "fastapi",
    "training_infrastructure": "kubernetes",
}


def test_the_airflow_workspace_volume_passes_strict_schema_validation(
    template: Path, tmp_path: Path
) -> None:
    project = render(AIRFLOW_ON_KUBERNETES, tmp_path / "project", template)
    output = run(tool("kubernetes-validate"), "--strict", project / "airflow" / "workspace.yaml")
    assert "WARN" not in output and "ERROR" not in output, output
    claim = document(project / "airflow" / "workspace.yaml")
    dag = (project / "airflow" / "dags" / f"{PACKAGE}_training.py").read_text(encoding="utf-8")
    assert claim["metadata"]["name"] == f"{SLUG}-workspace"
    assert 'claim_name=f"{SLUG}-workspace"' in dag and f'SLUG = "{SLUG}"' in dag
    # The pods use what the training Job's manifests create: account, settings, parameters.
    training = project / "deploy" / "kubernetes-training"
    assert document(training / "serviceaccount.yaml")["metadata"]["name"] == f"{SLUG}-training"
    assert 'service_account_name=f"{SLUG}-training"' in dag
    assert 'name=f"{SLUG}-params"' in dag


@pytest.mark.slow
@pytest.mark.xdist_group("airflow")
@pytest.mark.parametrize(
    "answers", [AIRFLOW, AIRFLOW_ON_KUBERNETES], ids=["training=local", "training=kubernetes"]
)
def test_the_airflow_dag_imports_in_its_own_environment_with_the_expected_graph(
    template: Path, tmp_path: Path, answers: dict[str, Any]
) -> None:
    """`make airflow-test`: the project's DAG test, in an isolated environment built from
    airflow/requirements.txt (uv's cache shares the packages of both renders)."""
    project = render(answers, tmp_path / "project", template)
    output = run("make", "airflow-test", cwd=project, env=make_environment(project))
    passed = 4 if answers.get("training_infrastructure") == "kubernetes" else 3
    assert f"{passed} passed" in output, output


@pytest.mark.slow
@pytest.mark.xdist_group("airflow")
def test_the_airflow_dag_runs_every_step_in_order_and_ends_with_a_champion(
    template: Path, tmp_path: Path
) -> None:
    """`make airflow-run` on a fresh render after `make setup`: `airflow dags test` runs the DAG
    on a SQLite metadata database, each BashOperator task a step in the project's environment;
    Airflow's own CLI then reports the run and its task instances."""
    project = render(AIRFLOW, tmp_path / "project", template)
    environment = make_environment(project)
    run("make", "setup", cwd=project, env=environment)
    run("make", "airflow-run", cwd=project, env=environment)
    share_the_bytecode_of_cached_packages(project)
    steps = project_steps(project, environment)

    # Airflow's CLI on the run's metadata database, in the environment the target used.
    airflow_environment = {
        **environment,
        "AIRFLOW_HOME": str(project / "airflow" / "local-run"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(project / "airflow" / "dags"),
    }

    def airflow(*arguments: str) -> Any:
        own = ["--isolated", "--no-project", "--with-requirements", "airflow/requirements.txt"]
        command = [tool("uv"), "run", *own, "airflow", *arguments, "--output", "json"]
        output = run(*command, cwd=project, env=airflow_environment, stdout_only=True)
        return json.loads(output.strip().splitlines()[-1])  # after Airflow's own warnings

    dag_id = f"{SLUG}-training"
    (dag_run,) = airflow("dags", "list-runs", dag_id)
    assert dag_run["state"] == "success", dag_run
    instances = airflow("tasks", "states-for-dag-run", dag_id, dag_run["run_id"])
    instances.sort(key=lambda instance: instance["start_date"])
    assert [instance["task_id"] for instance in instances] == steps
    assert {instance["state"] for instance in instances} == {"success"}
    for before, after in itertools.pairwise(instances):
        assert before["end_date"] <= after["start_date"], (before, after)
    # The tasks ran in the project folder: its registry has the champion the register task made.
    registration = json.loads((project / "reports" / "registration.json").read_text())
    assert registration["champion"] is True
    found = champion(project, project, environment)
    assert (found["version"], found["run_id"]) == (registration["version"], registration["run_id"])
