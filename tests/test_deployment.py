"""Static validation of the deployment and monitoring files with the tools of their ecosystems:
hadolint (Dockerfile), kubernetes-validate --strict and kustomize (Kubernetes), the compose
specification (compose and swarm stack files), promtool (Prometheus config, alert rules and their
unit tests, dashboard queries) and yamllint. No container engine or cluster is needed."""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from kubernetes_validate import utils as kubernetes_validate
from referencing import Registry, Resource
from rendering import render
from tools import free_port, node_tool, project_environment, run, tool, yaml_documents

SCHEMAS = Path(__file__).parent / "schemas"
YAMLLINT_CONFIG = Path(__file__).parent / "yamllint.yaml"

# Every deployment target and monitoring choice, with names that are not the defaults, so a
# hard-coded name would show.
EVERYTHING: dict[str, Any] = {
    "project_name": "Churn Scorer",
    "model_serving": "fastapi",
    "deployment_targets": ["docker_compose", "kubernetes", "kserve", "seldon", "docker_swarm"],
    "monitoring": ["drift_reports", "prometheus", "grafana", "json_logs"],
}
SLUG, PACKAGE = "churn-scorer", "churn_scorer"

# The metric names of the serving contract: alert rules and dashboard use nothing else.
SERVING_METRICS = {
    "model_requests_total",
    "model_request_latency_seconds",
    "model_predictions_total",
    "model_prediction_score",
    "model_info",
    "model_drift_detected",
    "model_feature_out_of_range_total",
    "model_reload_refused_total",
}

# The custom resources kubernetes-validate has no schema for, with the schema written for them.
CUSTOM_RESOURCES = {
    "deploy/kserve/inferenceservice.yaml": "kserve-inferenceservice-v1beta1.json",
    "deploy/seldon/seldondeployment.yaml": "seldon-seldondeployment-v1.json",
}


@pytest.fixture(scope="module")
def project(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    destination = tmp_path_factory.mktemp("everything") / "project"
    return render(EVERYTHING, destination, template)


# --- container image ---------------------------------------------------------------------------


@pytest.fixture(
    scope="module",
    params=[{}, {"feature_store": "feast", "feature_engine": "spark"}],
    ids=["serving", "feature_store=feast-feature_engine=spark"],
)
def image_project(
    request: pytest.FixtureRequest,
    project: Path,
    template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """The image as rendered for serving alone, and with the Feast definitions and Spark's
    Java runtime in it (the training pods run the same image)."""
    if not request.param:
        return project
    destination = tmp_path_factory.mktemp("image-features") / "project"
    return render({**EVERYTHING, **request.param}, destination, template)


def test_the_dockerfile_passes_hadolint(image_project: Path) -> None:
    project = image_project
    output = run(tool("hadolint"), "--no-color", "--failure-threshold", "info", "Dockerfile",
                 cwd=project)  # fmt: skip
    assert output.strip() == ""


def test_the_image_is_multi_stage_locked_non_root_and_healthchecked(image_project: Path) -> None:
    project = image_project
    dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM (\S+)(?: AS (\S+))?$", dockerfile, re.MULTILINE)
    assert [name for _, name in stages] == ["uv", "builder", "runtime"]
    python_version = yaml.safe_load((project / ".copier-answers.yml").read_text())["python_version"]
    assert stages[1][0] == stages[2][0] == f"python:{python_version}-slim-trixie"
    assert re.match(r"ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+$", stages[0][0])
    assert "uv sync --locked --no-dev" in dockerfile
    runtime = dockerfile.split(" AS runtime")[1]
    assert "COPY --from=builder /app/.venv /app/.venv" in runtime
    assert re.search(r"^USER 10001:10001$", runtime, re.MULTILINE)
    assert "http://127.0.0.1:8000/health" in runtime.split("HEALTHCHECK")[1]
    assert "curl" not in dockerfile
    # The one package from the distribution, for Spark only: a Java runtime, no extras.
    spark = "feature_engine: spark" in (project / ".copier-answers.yml").read_text()
    assert re.findall(r"apt-get install (.+?) \\$", dockerfile, re.MULTILINE) == (
        ["--yes --no-install-recommends openjdk-21-jre-headless"] if spark else []
    )
    assert ("rm -rf /var/lib/apt/lists/*" in runtime) == spark
    assert f'"-m", "{PACKAGE}", "serve"' in runtime


def test_the_build_context_holds_only_what_the_image_copies(image_project: Path) -> None:
    project = image_project
    ignore = (project / ".dockerignore").read_text(encoding="utf-8").splitlines()
    rules = [line for line in ignore if line and not line.startswith("#")]
    assert rules[0] == "*"
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
    copied = set()
    for sources in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.MULTILINE):
        copied.update(sources.split())
    copied.update(re.findall(r"--mount=type=bind,source=([^,\s]+)", dockerfile))
    assert copied == allowed
    assert all((project / name).exists() for name in allowed - {"uv.lock"})


@pytest.fixture(scope="module")
def image_build(project: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """No container engine here: run the Dockerfile's own `uv sync` steps, each in a folder
    holding only what that step sees (its bind mounts, then what .dockerignore lets through).
    Returns (the image's virtualenv, a working copy of the project with its lock file)."""
    build = tmp_path_factory.mktemp("image")
    dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
    steps = re.findall(r"^\s*(uv sync [^\\\n]+)$", dockerfile, re.MULTILINE)
    assert len(steps) == 2, steps
    python_version = yaml.safe_load((project / ".copier-answers.yml").read_text())["python_version"]
    environment = project_environment()
    environment.update(
        UV_PROJECT_ENVIRONMENT=str(build / "venv"),
        UV_PYTHON=python_version,
        UV_PYTHON_DOWNLOADS="never",
    )

    def uv(command: str, cwd: Path) -> None:
        result = subprocess.run(
            [tool("uv"), *command.split()[1:]],
            cwd=cwd,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"

    source = build / "source"
    shutil.copytree(project, source)
    uv("uv lock", source)  # what `make setup` leaves behind, and the user commits
    dependencies = build / "dependencies"
    dependencies.mkdir()
    for mounted in re.findall(r"--mount=type=bind,source=([^,\s]+)", dockerfile):
        shutil.copy2(source / mounted, dependencies / mounted)
    uv(steps[0], dependencies)
    context = build / "context"
    context.mkdir()
    ignore = (project / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for allowed in (line[1:].rstrip("/") for line in ignore if line.startswith("!")):
        copy = shutil.copytree if (source / allowed).is_dir() else shutil.copy2
        copy(source / allowed, context / allowed)
    uv(steps[1], context)
    return build / "venv", source


@pytest.mark.slow
@pytest.mark.xdist_group("image")
def test_the_image_build_steps_install_the_service(image_build: tuple[Path, Path]) -> None:
    venv, source = image_build
    output = run(venv / "bin" / "python", "-m", PACKAGE, "serve", "--help", cwd=source.parent)
    assert "--port" in output


def http(url: str, body: dict[str, Any] | None = None) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.slow
@pytest.mark.xdist_group("image")
def test_the_service_in_the_image_environment_exposes_metrics_promtool_accepts(
    image_build: tuple[Path, Path], tmp_path: Path
) -> None:
    """Train with the image's environment, start the service as the image's CMD does, send
    traffic, and lint /metrics with `promtool check metrics`; the alert rules' series exist."""
    venv, source = image_build
    python = str(venv / "bin" / "python")
    environment = {
        **{k: v for k, v in project_environment().items() if k != "MLFLOW_TRACKING_URI"},
        "PREDICTION_LOG": str(tmp_path / "predictions.jsonl"),
    }
    run(python, "-m", PACKAGE, "pipeline", cwd=source, env=environment)
    features = json.loads((source / "data" / "processed" / "features.json").read_text())
    sample = run(
        python, "-c", f"import pandas as p; print(p.read_parquet('data/processed/test.parquet')"
        f"[{features['features']!r}].head(5).to_json(orient='records'))",
        cwd=source, env=environment, stdout_only=True,
    )  # fmt: skip
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [python, "-m", PACKAGE, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=source, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while http_status := _ready(base):
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, f"/ready answered {http_status} for 120 s"
            time.sleep(0.5)
        status, _ = http(f"{base}/predict", {"records": json.loads(sample)})
        assert status == 200
        status, _ = http(f"{base}/predict", {"records": [{"not_a_feature": 1.0}]})
        assert status == 422
        status, metrics = http(f"{base}/metrics")
        assert status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    output = run(tool("promtool"), "check", "metrics", stdin=metrics)
    assert output.strip() == "", output
    # The drift gauge appears once `make monitor` has written a report, the out-of-range counter
    # with the first value outside a training range; the others at once.
    for name in SERVING_METRICS - {"model_drift_detected", "model_feature_out_of_range_total"}:
        assert re.search(rf"^{name}(_total|_bucket|_count|_sum)?[{{ ]", metrics, re.MULTILINE), name
    assert 'model_requests_total{endpoint="/predict",status_code="200"}' in metrics
    assert 'model_requests_total{endpoint="/predict",status_code="422"}' in metrics
    assert 'model_request_latency_seconds_bucket{endpoint="/predict",le="0.5"}' in metrics


def _ready(base: str) -> int:
    """0 once /ready answers 200, else the status (or -1 while nothing listens)."""
    try:
        status, _ = http(f"{base}/ready")
    except OSError:
        return -1
    return 0 if status == 200 else status


# --- Kubernetes ----------------------------------------------------------------------------------


def kubernetes_manifests(project: Path) -> list[Path]:
    folder = project / "deploy" / "kubernetes"
    return sorted(p for p in folder.glob("*.yaml") if p.name != "kustomization.yaml")


def test_kubernetes_manifests_pass_strict_schema_validation(project: Path) -> None:
    manifests = kubernetes_manifests(project)
    output = run(tool("kubernetes-validate"), "--strict", *manifests)
    assert "WARN" not in output and "ERROR" not in output, output
    assert output.count(" passed for resource ") == len(manifests)


def test_the_kustomization_lists_every_manifest_and_builds(project: Path) -> None:
    folder = project / "deploy" / "kubernetes"
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))
    assert sorted(kustomization["resources"]) == [p.name for p in kubernetes_manifests(project)]
    assert [image["name"] for image in kustomization["images"]] == [SLUG]
    built = run(tool("kubectl"), "kustomize", folder)
    output = run(tool("kubernetes-validate"), "--strict", "-", stdin=built)
    assert "WARN" not in output and "ERROR" not in output, output
    kinds = sorted(doc["kind"] for doc in yaml.safe_load_all(built))
    assert kinds == [
        "ConfigMap", "Deployment", "HorizontalPodAutoscaler", "NetworkPolicy",
        "PodDisruptionBudget", "Service",
    ]  # fmt: skip


def test_the_deployment_is_probed_limited_and_locked_down(project: Path) -> None:
    (deployment,) = yaml_documents(project / "deploy" / "kubernetes" / "deployment.yaml")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == SLUG
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    sources = {next(iter(ref)): ref[next(iter(ref))]["name"] for ref in container["envFrom"]}
    assert sources == {"configMapRef": f"{SLUG}-config", "secretRef": f"{SLUG}-mlflow"}
    assert api_key_reference(container) == {"name": f"{SLUG}-api-key", "key": "API_KEY",
                                            "optional": True}  # fmt: skip
    (hpa,) = yaml_documents(project / "deploy" / "kubernetes" / "hpa.yaml")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"] == SLUG


def api_key_reference(container: dict[str, Any]) -> dict[str, Any]:
    """Where a container's API_KEY comes from: the Secret key it references."""
    (variable,) = [env for env in container.get("env", []) if env["name"] == "API_KEY"]
    assert set(variable) == {"name", "valueFrom"}, variable
    return variable["valueFrom"]["secretKeyRef"]


@pytest.mark.parametrize("manifest", sorted(CUSTOM_RESOURCES))
def test_kserve_and_seldon_take_the_api_key_from_the_same_secret(
    project: Path, manifest: str
) -> None:
    (document,) = yaml_documents(project / manifest)
    spec = document["spec"]
    if document["kind"] == "InferenceService":
        containers = spec["predictor"]["containers"]
    else:
        pods = [pod for predictor in spec["predictors"] for pod in predictor["componentSpecs"]]
        containers = [container for pod in pods for container in pod["spec"]["containers"]]
    for container in containers:
        assert api_key_reference(container) == {"name": f"{SLUG}-api-key", "key": "API_KEY",
                                                "optional": True}  # fmt: skip


def network_policy(project: Path) -> dict[str, Any]:
    (policy,) = yaml_documents(project / "deploy" / "kubernetes" / "networkpolicy.yaml")
    return policy


def test_the_network_policy_admits_only_the_documented_callers_to_the_service_port(
    project: Path,
) -> None:
    policy = network_policy(project)
    (deployment,) = yaml_documents(project / "deploy" / "kubernetes" / "deployment.yaml")
    pod = deployment["spec"]["template"]
    assert policy["spec"]["podSelector"]["matchLabels"] == pod["metadata"]["labels"]
    assert policy["spec"]["policyTypes"] == ["Ingress"]  # egress (registry, DNS) stays open
    (container,) = pod["spec"]["containers"]
    port_names = {port["name"] for port in container["ports"]}
    docs = (project / "docs" / "deployment.md").read_text(encoding="utf-8")
    admitted = []
    for rule in policy["spec"]["ingress"]:
        assert rule["from"], "a rule without peers admits everyone"
        assert {port["port"] for port in rule["ports"]} <= port_names
        for peer in rule["from"]:
            assert set(peer) <= {"podSelector", "namespaceSelector"}  # no ipBlock
            for selector in peer.values():
                assert set(selector) == {"matchLabels"} and selector["matchLabels"]
                admitted += [f"{key}={value}" for key, value in selector["matchLabels"].items()]
    assert f"{SLUG}-client=true" in admitted
    assert "kubernetes.io/metadata.name=monitoring" in admitted  # Prometheus
    for label in admitted:
        assert f"`{label}`" in docs, f"docs/deployment.md does not name {label}"


def test_without_prometheus_the_network_policy_admits_no_monitoring_namespace(
    template: Path, tmp_path: Path
) -> None:
    answers = {"model_serving": "fastapi", "deployment_targets": ["kubernetes"], "monitoring": []}
    project = render(answers, tmp_path / "project", template)
    rules = network_policy(project)["spec"]["ingress"]
    assert "monitoring" not in json.dumps(rules)
    output = run(tool("kubernetes-validate"), "--strict", *kubernetes_manifests(project))
    assert "WARN" not in output and "ERROR" not in output, output


SECRET_NAME = re.compile(r"(?i)password|secret|token|access_key|api_key")
# A value compose takes from the shell or .env, with no default written in the file.
FROM_THE_SHELL = re.compile(r"\$\{\w+(:-|:\?[^}]*)?\}")


def secret_values(node: Any) -> list[str]:
    """Names of environment variables that look like credentials and are given a value."""
    found = []
    if isinstance(node, dict):
        name = node.get("name")
        if isinstance(name, str) and "value" in node and SECRET_NAME.search(name):
            found.append(name)
        for key, value in node.items():
            if key == "environment" and isinstance(value, dict):
                found += [
                    name
                    for name, given in value.items()
                    if SECRET_NAME.search(name) and not FROM_THE_SHELL.fullmatch(str(given))
                ]
            found += secret_values(value)
    elif isinstance(node, list):
        for item in node:
            found += secret_values(item)
    return found


def test_no_manifest_carries_a_secret_value(project: Path) -> None:
    paths = [project / "compose.yaml", *(project / "deploy").rglob("*.y*ml")]
    for path in paths:
        for doc in yaml_documents(path):
            assert doc.get("kind") != "Secret", path
            assert secret_values(doc) == [], path
    assert secret_values({"env": [{"name": "MLFLOW_TRACKING_PASSWORD", "value": "x"}]})
    assert secret_values({"environment": {"API_KEY": "${API_KEY:-a default}"}})
    assert not secret_values({"environment": {"API_KEY": "${API_KEY:-}"}})


@cache
def kubernetes_definitions() -> Registry:
    """The strict Kubernetes definitions kubernetes-validate ships, for the custom resources'
    embedded core types (Container, PodSpec, ...)."""
    version = kubernetes_validate.latest_version()
    folder = files("kubernetes_validate") / "kubernetes-json-schema" / f"v{version}-local-strict"
    definitions = json.loads((folder / "_definitions.json").read_text(encoding="utf-8"))
    return Resource.from_contents(definitions) @ Registry()


def custom_resource_errors(schema_name: str, document: dict[str, Any]) -> list[str]:
    schema = json.loads((SCHEMAS / schema_name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, registry=kubernetes_definitions())
    return [
        f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


@pytest.mark.parametrize("manifest", sorted(CUSTOM_RESOURCES))
def test_custom_resources_are_unknown_to_kubernetes_validate(project: Path, manifest: str) -> None:
    # kubernetes-validate only warns and exits 0 on kinds it has no schema for: it checks nothing
    # here, which is why the next test validates these files against schemas of their own.
    output = run(tool("kubernetes-validate"), "--strict", project / manifest)
    assert "Couldn't find schema" in output


@pytest.mark.parametrize("manifest", sorted(CUSTOM_RESOURCES))
def test_custom_resources_match_their_resource_schema(project: Path, manifest: str) -> None:
    (document,) = yaml_documents(project / manifest)
    assert custom_resource_errors(CUSTOM_RESOURCES[manifest], document) == []
    assert document["metadata"]["name"] == SLUG


@pytest.mark.parametrize("manifest", sorted(CUSTOM_RESOURCES))
def test_the_resource_schemas_reject_what_a_cluster_would(project: Path, manifest: str) -> None:
    (document,) = yaml_documents(project / manifest)
    broken = copy.deepcopy(document)
    broken["spec"]["unknownField"] = True
    assert custom_resource_errors(CUSTOM_RESOURCES[manifest], broken)
    broken = copy.deepcopy(document)
    containers = (
        broken["spec"]["predictor"]["containers"]
        if document["kind"] == "InferenceService"
        else broken["spec"]["predictors"][0]["componentSpecs"][0]["spec"]["containers"]
    )
    containers[0]["resources"]["limits"]["memory"] = ["1Gi"]
    containers[0]["livenessProbe"]["httpGet"]["paht"] = "/health"
    errors = custom_resource_errors(CUSTOM_RESOURCES[manifest], broken)
    assert len(errors) == 2, errors


def test_kserve_serves_the_project_image_as_its_predictor(project: Path) -> None:
    (service,) = yaml_documents(project / "deploy" / "kserve" / "inferenceservice.yaml")
    (container,) = service["spec"]["predictor"]["containers"]
    assert container["name"] == "kserve-container"
    assert container["image"] == f"{SLUG}:latest"
    assert [port["containerPort"] for port in container["ports"]] == [8000]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    # Knative, under KServe's serverless mode, refuses a pod-level securityContext by default.
    assert "securityContext" not in service["spec"]["predictor"]
    assert container["securityContext"]["runAsNonRoot"] is True


def test_every_seldon_graph_node_has_its_container(project: Path) -> None:
    (deployment,) = yaml_documents(project / "deploy" / "seldon" / "seldondeployment.yaml")
    for predictor in deployment["spec"]["predictors"]:
        containers = {
            container["name"]: container
            for spec in predictor["componentSpecs"]
            for container in spec["spec"]["containers"]
        }
        nodes, names = [predictor["graph"]], []
        while nodes:
            node = nodes.pop()
            names.append(node["name"])
            nodes.extend(node.get("children", []))
        assert set(names) == set(containers)
        assert {c["image"] for c in containers.values()} == {f"{SLUG}:latest"}


# --- compose and swarm ---------------------------------------------------------------------------


def test_compose_and_stack_files_match_the_compose_specification(project: Path) -> None:
    output = run(
        tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
        project / "compose.yaml", project / "deploy" / "swarm" / "stack.yaml",
    )  # fmt: skip
    assert "ok -- validation done" in output


def test_compose_runs_the_service_with_mlflow_prometheus_and_grafana(project: Path) -> None:
    compose = yaml.safe_load((project / "compose.yaml").read_text(encoding="utf-8"))
    assert compose["name"] == SLUG
    assert set(compose["services"]) == {"serving", "mlflow", "prometheus", "grafana"}
    serving = compose["services"]["serving"]
    assert serving["image"] == f"${{IMAGE:-{SLUG}:latest}}" and serving["build"] == "."
    assert serving["environment"]["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    mlflow = " ".join(compose["services"]["mlflow"]["command"])
    assert "--backend-store-uri=sqlite:////mlflow/mlflow.db" in mlflow
    assert "mlflow:/mlflow" in compose["services"]["mlflow"]["volumes"]
    assert "./reports:/app/reports:ro" in serving["volumes"]  # the drift flag on /metrics
    for service in compose["services"].values():
        image = service["image"]
        assert re.search(r":v?\d+\.\d+", image) or image == serving["image"], image
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./deploy/"):  # configuration shipped with the project
                assert (project / source).is_dir(), source


def test_the_swarm_stack_rolls_out_replicas_safely(project: Path) -> None:
    stack = yaml.safe_load((project / "deploy" / "swarm" / "stack.yaml").read_text())
    serving = stack["services"]["serving"]
    assert "build" not in serving
    deploy = serving["deploy"]
    assert deploy["replicas"] >= 2
    assert deploy["update_config"]["order"] == "start-first"
    assert deploy["update_config"]["failure_action"] == "rollback"
    assert "http://127.0.0.1:8000/health" in " ".join(serving["healthcheck"]["test"])


@pytest.mark.parametrize(
    ("monitoring", "services"),
    [
        ([], {"serving", "mlflow"}),
        (["prometheus"], {"serving", "mlflow", "prometheus"}),
    ],
    ids=["monitoring=none", "monitoring=prometheus"],
)
def test_compose_follows_the_monitoring_answer(
    template: Path, tmp_path: Path, monitoring: list[str], services: set[str]
) -> None:
    answers = {"model_serving": "fastapi", "deployment_targets": ["docker_compose"]}
    project = render({**answers, "monitoring": monitoring}, tmp_path / "p", template)
    compose = yaml.safe_load((project / "compose.yaml").read_text(encoding="utf-8"))
    assert set(compose["services"]) == services
    assert not (project / "deploy" / "grafana").exists()
    assert (project / "deploy" / "prometheus").exists() == ("prometheus" in monitoring)
    compose_schema = ("--builtin-schema", "vendor.compose-spec")
    run(tool("check-jsonschema"), *compose_schema, project / "compose.yaml")


# --- Prometheus and Grafana ----------------------------------------------------------------------


def metric_names(expression: str) -> set[str]:
    """The serving metrics a PromQL expression reads (label names and matchers left out)."""
    expression = re.sub(r"\b(?:by|without)\s*\([^)]*\)|\{[^}]*\}", "", expression)
    names = set(re.findall(r"\b(model_[a-z_]+)", expression))
    return {re.sub(r"_(bucket|sum|count)$", "", name) for name in names}


def test_the_prometheus_config_and_rules_pass_promtool(project: Path) -> None:
    folder = project / "deploy" / "prometheus"
    output = run(tool("promtool"), "check", "config", "prometheus.yml", cwd=folder)
    assert "SUCCESS: 1 rule files found" in output
    run(tool("promtool"), "check", "rules", "alerts.yml", cwd=folder)
    config = yaml.safe_load((folder / "prometheus.yml").read_text(encoding="utf-8"))
    (job,) = config["scrape_configs"]
    assert job["job_name"] == SLUG
    assert job["static_configs"][0]["targets"] == ["serving:8000"]


def test_the_alert_rules_pass_their_unit_tests(project: Path) -> None:
    output = run(tool("promtool"), "test", "rules", "alerts.test.yml",
                 cwd=project / "deploy" / "prometheus")  # fmt: skip
    assert "SUCCESS" in output


def test_the_alerts_cover_errors_latency_traffic_and_drift(project: Path) -> None:
    rules = yaml.safe_load((project / "deploy" / "prometheus" / "alerts.yml").read_text())
    alerts = {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"]}
    required = {"ModelHighErrorRate", "ModelHighLatencyP99", "ModelNoTraffic", "ModelDriftDetected"}
    assert required <= set(alerts)
    for rule in alerts.values():
        assert metric_names(rule["expr"]) <= SERVING_METRICS, rule["alert"]
        assert f'job="{SLUG}"' in rule["expr"], rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}


def test_the_dashboard_queries_parse_and_use_the_serving_metrics(
    project: Path, tmp_path: Path
) -> None:
    grafana = project / "deploy" / "grafana"
    dashboard = json.loads((grafana / "dashboards" / "serving.json").read_text(encoding="utf-8"))
    (datasource,) = yaml_documents(grafana / "provisioning" / "datasources" / "prometheus.yml")[0][
        "datasources"
    ]
    targets = [target for panel in dashboard["panels"] for target in panel["targets"]]
    assert len(targets) >= 10
    used: set[str] = set()
    for target in targets:
        assert target["datasource"]["uid"] == datasource["uid"]
        used |= metric_names(target["expr"])
    assert used == SERVING_METRICS
    # promtool parses PromQL: check every query as a recording rule, with Grafana's variables set.
    queries = [
        {
            "record": f"dashboard:query_{i}",
            "expr": t["expr"].replace("$__rate_interval", "1m").replace("$__range", "1h"),
        }
        for i, t in enumerate(targets)
    ]
    rules = {"groups": [{"name": "dashboard", "rules": queries}]}
    (tmp_path / "queries.yml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    run(tool("promtool"), "check", "rules", tmp_path / "queries.yml")
    assert dashboard["uid"].startswith(SLUG) and len(dashboard["uid"]) <= 40
    providers = yaml_documents(grafana / "provisioning" / "dashboards" / "dashboards.yml")[0]
    assert providers["providers"][0]["options"]["path"] == "/etc/grafana/dashboards"


# Grafana's own dashboard and panel types (@grafana/schema, generated from its CUE schema), turned
# into JSON Schemas by ts-json-schema-generator; `npm ci --prefix tests/grafana_schema` installs
# both.
GRAFANA_SCHEMA = Path(__file__).parent / "grafana_schema" / "node_modules"


@cache
def grafana_schema(kind: str, type_name: str) -> dict[str, Any]:
    generator = node_tool("grafana_schema", "ts-json-schema-generator")
    types = GRAFANA_SCHEMA / "@grafana" / "schema" / "dist" / "types" / "raw" / kind
    source = types / "types.gen.d.ts"
    command = (generator, "--path", source, "--type", type_name, "--no-type-check")
    return json.loads(run(*command, stdout_only=True))


def without_required(schema: Any) -> Any:
    """Grafana fills a panel option left out with the plugin's default: check only what is set."""
    if isinstance(schema, dict):
        return {k: without_required(v) for k, v in schema.items() if k != "required"}
    if isinstance(schema, list):
        return [without_required(item) for item in schema]
    return schema


def test_the_dashboard_follows_grafanas_dashboard_and_panel_schemas(project: Path) -> None:
    """The dashboard model as Grafana types it: no unknown key, every enum value known, the panel
    options of each panel type (stat, timeseries) spelt and typed as that plugin declares them."""
    path = project / "deploy" / "grafana" / "dashboards" / "serving.json"
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(grafana_schema("dashboard/x", "Dashboard"))
    assert [error.message for error in validator.iter_errors(dashboard)] == []
    for panel in dashboard["panels"]:
        options = grafana_schema(f"composable/{panel['type']}/panelcfg/x", "Options")
        validator = jsonschema.Draft7Validator(without_required(options))
        errors = [e.message for e in validator.iter_errors(panel.get("options", {}))]
        assert errors == [], panel["title"]


# --- log shipping (json_logs) --------------------------------------------------------------------


# No Fluent Bit build installs offline here (Debian 12 and PyPI have none), so its --dry-run cannot
# run: the configs are checked against the properties Fluent Bit documents for the plugins they use
# (a misspelt key is silently ignored by it), the routing and the environment they read.
def words(text: str) -> set[str]:
    return set(text.split())


FLUENT_BIT_PROPERTIES = {
    "inputs": {
        "tail": words(
            "name tag path exclude_path parser multiline.parser db db.sync db.locking storage.type"
            " refresh_interval read_from_head rotate_wait buffer_chunk_size buffer_max_size"
            " skip_long_lines mem_buf_limit path_key offset_key ignore_older key"
        ),
    },
    "filters": {
        "parser": words("name match key_name parser reserve_data preserve_key"),
        "modify": words("name match add set remove rename copy condition"),
    },
    "outputs": {
        "es": words(
            "name match host port http_user http_passwd tls tls.verify tls.ca_file index"
            " logstash_format logstash_prefix suppress_type_name retry_limit cloud_id cloud_auth"
            " pipeline id_key generate_id replace_dots trace_error buffer_size compress"
        ),
        "splunk": words(
            "name match host port splunk_token tls tls.verify tls.ca_file event_sourcetype"
            " event_source event_host event_index event_key splunk_send_raw retry_limit compress"
            " channel http_buffer_size"
        ),
    },
}
FLUENT_BIT_SECRETS = {"http_user", "http_passwd", "splunk_token", "host", "port"}


@pytest.mark.parametrize("output", ["elasticsearch", "splunk"])
def test_the_log_shipper_reads_both_logs_and_takes_every_secret_from_the_environment(
    project: Path, output: str
) -> None:
    path = project / "deploy" / "logging" / f"fluent-bit-{output}.yaml"
    config = yaml_documents(path)[0]
    assert set(config) <= {"env", "includes", "service", "parsers", "pipeline"}
    pipeline = config["pipeline"]
    for section, plugins in FLUENT_BIT_PROPERTIES.items():
        for entry in pipeline[section]:
            assert set(entry) <= plugins[entry["name"]], (section, entry["name"])
    (plugin,) = [entry["name"] for entry in pipeline["outputs"]]
    assert plugin == {"elasticsearch": "es", "splunk": "splunk"}[output]
    inputs = {entry["tag"]: entry for entry in pipeline["inputs"]}
    # The prediction log the service writes (paths.py), and the service's stderr as JSON lines.
    prediction_log = re.search(
        r'PREDICTION_LOG = Path\("([^"]+)"\)',
        (project / "src" / PACKAGE / "paths.py").read_text(encoding="utf-8"),
    )
    assert prediction_log is not None
    assert inputs[f"{SLUG}.predictions"]["path"].endswith("/" + Path(prediction_log[1]).name)
    assert "docker" in inputs[f"{SLUG}.service"]["multiline.parser"]
    parsers = {parser["name"] for parser in config["parsers"]}
    used = [e.get("parser") for e in pipeline["inputs"] + pipeline["filters"] if e.get("parser")]
    assert used and set(used) <= parsers
    # Every filter and output applies to some input, and every input reaches the output.
    for entry in pipeline["filters"] + pipeline["outputs"]:
        assert any(fnmatch.fnmatchcase(tag, entry["match"]) for tag in inputs), entry
    for tag in inputs:
        assert fnmatch.fnmatchcase(tag, pipeline["outputs"][0]["match"]), tag
    # Addresses and credentials are environment references, each one said in the docs.
    for key in FLUENT_BIT_SECRETS & set(pipeline["outputs"][0]):
        assert re.fullmatch(r"\$\{[A-Z_]+\}", str(pipeline["outputs"][0][key])), key
    docs = (project / "docs" / "deployment.md").read_text(encoding="utf-8")
    variables = set(re.findall(r"\$\{([A-Z_]+)\}", path.read_text(encoding="utf-8")))
    assert len(variables) >= 6
    assert {name for name in variables if f"`{name}`" not in docs} == set()


# --- every YAML file -----------------------------------------------------------------------------


def test_the_deployment_yaml_passes_yamllint(project: Path) -> None:
    deploy_files = (project / "deploy").rglob("*.y*ml")
    yaml_files = ["compose.yaml", *sorted(p.relative_to(project).as_posix() for p in deploy_files)]
    assert len(yaml_files) >= 15
    run(tool("yamllint"), "--strict", "-c", YAMLLINT_CONFIG, *yaml_files, cwd=project)


def test_no_deployment_file_hard_codes_a_default_name(project: Path) -> None:
    deployment_files = [project / "Dockerfile", project / "compose.yaml"]
    deployment_files += [p for p in (project / "deploy").rglob("*") if p.is_file()]
    for path in deployment_files:
        text = path.read_text(encoding="utf-8")
        assert "ml-project" not in text and "ml_project" not in text, path


# --- the questions' computed default -------------------------------------------------------------


@pytest.mark.parametrize("preset", ["starter", "production", "platform"])
def test_deployment_targets_default_to_compose_when_the_service_exists(
    template: Path, tmp_path: Path, preset: str
) -> None:
    project = render({"preset": preset}, tmp_path / "project", template=template)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    serving = answers["model_serving"] == "fastapi"
    expected = ["docker_compose"] if serving and preset != "starter" else []
    assert answers["deployment_targets"] == expected
    assert (project / "Dockerfile").exists() == serving
    assert (project / "compose.yaml").exists() == bool(expected)
    assert not (project / "deploy").exists() or expected


# --- make deploy ---------------------------------------------------------------------------------

# Stand-ins for kubectl and docker: they log their arguments (and the IMAGE they were given) and
# keep what would be applied; `apply --kustomize` is built by the real kustomize of kubectl.
STAND_IN = """#!/usr/bin/env bash
echo "$(basename "$0") $* IMAGE=${IMAGE:-}" >>"$CALLS"
if [[ "$*" == "apply --kustomize="* ]]; then
  "$REAL_KUBECTL" kustomize "${2#--kustomize=}" >>"$APPLIED"
fi
if [[ "$*" == *"--filename=-"* ]]; then cat >>"$APPLIED"; fi
"""
PUSHED = "registry.example.com:5000/team/churn-scorer:0123abc"


def make_deploy(project: Path, tmp_path: Path, **env: str) -> tuple[int, str, list[str], str]:
    """`make deploy` with stand-ins: (exit code, stderr, commands run, manifests applied)."""
    stand_ins = tmp_path / "bin"
    stand_ins.mkdir(exist_ok=True)
    for name in ("kubectl", "docker"):
        (stand_ins / name).write_text(STAND_IN, encoding="utf-8")
        (stand_ins / name).chmod(0o755)
    calls, applied = tmp_path / "calls.log", tmp_path / "applied.yaml"
    calls.write_text("", encoding="utf-8")
    applied.write_text("", encoding="utf-8")
    environment = {
        "PATH": f"{stand_ins}{os.pathsep}{os.environ['PATH']}",
        "REAL_KUBECTL": tool("kubectl"),
        "CALLS": str(calls),
        "APPLIED": str(applied),
        **env,
    }
    result = subprocess.run(
        ["make", "--no-print-directory", "deploy"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    commands = calls.read_text(encoding="utf-8").splitlines()
    return result.returncode, result.stderr, commands, applied.read_text(encoding="utf-8")


def test_the_deploy_script_passes_shellcheck(project: Path) -> None:
    run(tool("shellcheck"), "deploy/deploy.sh", cwd=project)


@pytest.mark.parametrize("target", ["kubernetes", "kserve", "seldon"])
def test_make_deploy_applies_the_pushed_image_in_the_environment_namespace(
    project: Path, tmp_path: Path, target: str
) -> None:
    code, stderr, commands, applied = make_deploy(
        project, tmp_path, IMAGE=PUSHED, DEPLOY_ENV="production", DEPLOY_TARGET=target
    )
    assert code == 0, stderr
    namespace = f"{SLUG}-production"
    assert any(c.startswith(f"kubectl create namespace {namespace} ") for c in commands)
    images = re.findall(r"^\s*image: (\S+)$", applied, re.MULTILINE)
    assert images and set(images) == {PUSHED}
    for document in yaml.safe_load_all(applied):
        if document and target == "kubernetes":
            assert document["metadata"]["namespace"] == namespace
    waits = [c for c in commands if c.startswith(("kubectl rollout", "kubectl wait"))]
    assert len(waits) == 1 and f"--namespace={namespace}" in waits[0]
    if target == "kubernetes":
        assert not list((project / "deploy").glob(".overlay-*"))


@pytest.mark.parametrize(
    ("target", "command"),
    [
        ("docker_swarm", "stack deploy --with-registry-auth --compose-file=deploy/swarm/"),
        ("docker_compose", f"compose --project-name={SLUG}-staging up --detach --no-build"),
    ],
)
def test_make_deploy_runs_the_pushed_image_on_docker(
    project: Path, tmp_path: Path, target: str, command: str
) -> None:
    code, stderr, commands, _ = make_deploy(project, tmp_path, IMAGE=PUSHED, DEPLOY_TARGET=target)
    assert code == 0, stderr
    (called,) = commands
    assert called.startswith(f"docker {command}") and called.endswith(f"IMAGE={PUSHED}")
    assert f"{SLUG}-staging" in called


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "set IMAGE to the pushed image"),
        ({"IMAGE": PUSHED, "DEPLOY_ENV": "dev"}, "DEPLOY_ENV must be staging or production"),
        ({"IMAGE": PUSHED, "DEPLOY_TARGET": "heroku"}, "DEPLOY_TARGET must be one of: kserve"),
    ],
    ids=["no-image", "deploy_env=dev", "deploy_target=heroku"],
)
def test_make_deploy_refuses_what_it_cannot_do(
    project: Path, tmp_path: Path, env: dict[str, str], message: str
) -> None:
    code, stderr, commands, _ = make_deploy(project, tmp_path, **env)
    assert code != 0 and message in stderr
    assert commands == []


def test_make_deploy_without_a_target_says_how_to_get_one(template: Path, tmp_path: Path) -> None:
    # No Prometheus either: its rules live under deploy/ too.
    answers = {"model_serving": "fastapi", "deployment_targets": [], "monitoring": []}
    project = render(answers, tmp_path / "project", template)
    code, stderr, _, _ = make_deploy(project, tmp_path, IMAGE=PUSHED)
    assert code != 0 and "add one to deployment_targets" in stderr
    assert not (project / "deploy").exists()
