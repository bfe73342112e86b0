"""Which files a render must hold, per answer, written independently of the template's path
conditions: every rendered file must be claimed by a rule whose condition holds, and every
`required` rule whose condition holds must match a file."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Answers = dict[str, Any]


@dataclass(frozen=True)
class Rule:
    pattern: str  # regex over the POSIX path; PKG stands for the package folder
    when: Callable[[Answers], bool]
    required: bool = True

    def regex(self, answers: Answers) -> re.Pattern[str]:
        return re.compile(self.pattern.replace("PKG", re.escape(answers["package_name"])) + "$")


def always(answers: Answers) -> bool:
    return True


def ci(provider: str) -> Callable[[Answers], bool]:
    return lambda a: a["ci_provider"] == provider


def target(name: str) -> Callable[[Answers], bool]:
    return lambda a: name in a["deployment_targets"]


def monitor(name: str) -> Callable[[Answers], bool]:
    return lambda a: name in a["monitoring"]


RULES = [
    # The project and its pipeline
    Rule(r"\.copier-answers\.yml", always),
    Rule(r"\.gitignore", always),
    Rule(r"\.pre-commit-config\.yaml", always),
    Rule(r"\.python-version", always),
    Rule(r"LICENSE", always),
    Rule(r"Makefile", always),
    Rule(r"README\.md", always),
    Rule(r"params\.yaml", always),
    Rule(r"pyproject\.toml", always),
    Rule(
        r"src/PKG/(__init__|__main__|cli|evaluate|features|files|gate|ingest|model|params|paths"
        r"|pipeline|schema|steps|task|train|validation)\.py",
        always,
    ),
    Rule(r"tests/(conftest|test_params|test_pipeline|test_step_contracts|test_steps)\.py", always),
    # Data versioning (DVC)
    Rule(
        r"dvc\.yaml|\.dvcignore|\.dvc/(config|\.gitignore)|tests/test_dvc_pipeline\.py",
        lambda a: a["data_versioning"] == "dvc",
    ),
    # Tracking and registry (MLflow)
    Rule(r"src/PKG/registry\.py", lambda a: a["experiment_tracking"] == "mlflow"),
    # CI/CD, one provider each
    Rule(r"docs/ci\.md", lambda a: a["ci_provider"] != "none"),
    Rule(r"\.github/workflows/(ci|train)\.yml|\.github/dependabot\.yml", ci("github_actions")),
    Rule(r"\.github/workflows/deliver\.yml", lambda a: ci("github_actions")(a) and serving(a)),
    Rule(
        r"\.github/workflows/monitor\.yml", lambda a: ci("github_actions")(a) and a["feedback_loop"]
    ),
    Rule(r"\.gitlab-ci\.yml", ci("gitlab_ci")),
    Rule(r"\.azure-pipelines/(ci|train|templates/uv)\.yml", ci("azure_pipelines")),
    Rule(
        r"\.azure-pipelines/monitor\.yml", lambda a: ci("azure_pipelines")(a) and a["feedback_loop"]
    ),
    Rule(r"Jenkinsfile", ci("jenkins")),
    Rule(r"\.travis\.yml", ci("travis_ci")),
    Rule(r"renovate\.json", lambda a: a["ci_provider"] not in {"github_actions", "none"}),
    # Collaboration: code owners, templates, responsibilities
    Rule(
        r"\.github/(CODEOWNERS|pull_request_template\.md|ISSUE_TEMPLATE/\w+\.yml)",
        ci("github_actions"),
    ),
    Rule(r"\.gitlab/(CODEOWNERS|(issue|merge_request)_templates/\w+\.md)", ci("gitlab_ci")),
    Rule(r"CODEOWNERS", lambda a: a["ci_provider"] not in {"github_actions", "gitlab_ci"}),
    # The docs site: initiation, architecture, coverage, decisions, runbooks, model card
    Rule(r"mkdocs\.yml", always),
    Rule(r"docs/(index|architecture|coverage|model_card|platforms|responsibilities)\.md", always),
    Rule(r"docs/project/(goal|framing|data)\.md", always),
    Rule(r"docs/adr/(index|\d{4}-[a-z-]+)\.md", always),
    Rule(r"docs/runbooks/(index|retrain|drift-alert|rotate-a-secret)\.md", always),
    Rule(r"docs/runbooks/roll-back\.md", lambda a: a["experiment_tracking"] == "mlflow"),
    Rule(r"src/PKG/model_card\.py|tests/test_docs\.py", always),
    # Serving and its deployment targets
    Rule(
        r"src/PKG/serving/(__init__|app|auth|batch|cli|loadtest|log_config|middleware|model"
        r"|prediction_log|schema|settings)\.py|tests/test_serving\.py",
        lambda a: serving(a),
    ),
    Rule(r"Dockerfile|\.dockerignore|docs/deployment\.md", lambda a: serving(a)),
    Rule(r"compose\.yaml", target("docker_compose")),
    Rule(r"deploy/kubernetes/\w+\.yaml", target("kubernetes")),
    Rule(r"deploy/kserve/inferenceservice\.yaml", target("kserve")),
    Rule(r"deploy/seldon/seldondeployment\.yaml", target("seldon")),
    Rule(r"deploy/swarm/stack\.yaml", target("docker_swarm")),
    Rule(r"deploy/deploy\.sh", lambda a: bool(a["deployment_targets"])),
    # Training on Kubernetes
    Rule(
        r"deploy/kubernetes-training/((configmap|job|kustomization|serviceaccount)\.yaml|README\.md)",
        lambda a: a["training_infrastructure"] == "kubernetes",
    ),
    Rule(
        r"deploy/kubernetes-training/cronjob\.yaml",
        lambda a: a["training_infrastructure"] == "kubernetes" and a["feedback_loop"],
    ),
    # Orchestrators
    Rule(
        r"kubeflow/(pipeline\.py|README\.md|\.gitignore)",
        lambda a: "kubeflow" in a["orchestrators"],
    ),
    Rule(
        r"airflow/(dags/PKG_training\.py|requirements\.txt|test_dag\.py|README\.md)",
        lambda a: "airflow" in a["orchestrators"],
    ),
    Rule(
        r"airflow/workspace\.yaml",
        lambda a: "airflow" in a["orchestrators"] and a["training_infrastructure"] == "kubernetes",
    ),
    # Feature store and feature engine
    Rule(
        r"feature_repo/(feature_store\.yaml|definitions\.py|README\.md)|src/PKG/feature_store\.py"
        r"|tests/test_feature_store\.py",
        lambda a: a["feature_store"] == "feast",
    ),
    Rule(
        r"src/PKG/spark_features\.py|tests/test_spark_features\.py",
        lambda a: a["feature_engine"] == "spark",
    ),
    # Monitoring
    Rule(r"src/PKG/serving/metrics\.py", monitor("prometheus")),
    Rule(
        r"src/PKG/monitoring/(__init__|cli|drift)\.py|tests/test_monitoring\.py",
        monitor("drift_reports"),
    ),
    # The feedback loop
    Rule(
        r"src/PKG/monitoring/feedback\.py|tests/test_feedback\.py|data/feedback/\.gitkeep",
        lambda a: a["feedback_loop"],
    ),
    Rule(r"deploy/logging/fluent-bit-(elasticsearch|splunk)\.yaml", monitor("json_logs")),
    Rule(r"deploy/prometheus/(alerts|alerts\.test|prometheus)\.yml", monitor("prometheus")),
    Rule(
        r"deploy/grafana/(dashboards/serving\.json|provisioning/\w+/\w+\.yml)", monitor("grafana")
    ),
]


def serving(answers: Answers) -> bool:
    return answers["model_serving"] != "none"


def file_set_problems(files: list[str], answers: Answers) -> list[str]:
    """Files no rule with a true condition claims, and required rules that match nothing."""
    active = [rule for rule in RULES if rule.when(answers)]
    problems = [
        f"unexpected file {path}"
        for path in files
        if not any(rule.regex(answers).match(path) for rule in active)
    ]
    problems += [
        f"missing a file matching {rule.pattern}"
        for rule in active
        if rule.required and not any(rule.regex(answers).match(path) for path in files)
    ]
    return problems
