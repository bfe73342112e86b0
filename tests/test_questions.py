"""Questionnaire tests: every validator and cross-field rule refuses bad input before anything is
written, with a message that names the answer to change; computed defaults are right."""

from __future__ import annotations

import keyword
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from rendering import TEMPLATE_ROOT, asked_questions, check_answer_keys, render

# (answers, the question refused, a fragment of its message)
BAD_ANSWERS: list[tuple[dict[str, Any], str, str]] = [
    ({"project_name": "   "}, "project_name", "must not be empty"),
    ({"project_name": "x" * 81}, "project_name", "use at most 80"),
    ({"project_name": 'The "Best" Model'}, "project_name", "quotes"),
    ({"project_name": "two\nlines"}, "project_name", "control characters"),
    ({"project_slug": "My Project"}, "project_slug", "lower-case letters"),
    ({"project_slug": "../escape"}, "project_slug", "lower-case letters"),
    ({"project_slug": "9lives"}, "project_slug", "starting with a letter"),
    ({"project_slug": "double--hyphen"}, "project_slug", "single hyphens"),
    ({"project_slug": "café"}, "project_slug", "lower-case letters"),
    ({"project_slug": ""}, "project_slug", "answer project_slug"),
    ({"project_name": "予測モデル"}, "project_slug", "no Latin letter or digit"),
    ({"project_slug": "a" * 51}, "project_slug", "use at most 50"),
    ({"package_name": "class"}, "package_name", "is a Python keyword"),
    ({"package_name": "json"}, "package_name", "shadow the standard library"),
    ({"package_name": "mlflow"}, "package_name", "shadow a library"),
    ({"package_name": "tests"}, "package_name", "shadow a library"),
    ({"package_name": "Bad-Name"}, "package_name", "lower-case"),
    ({"package_name": "../../etc"}, "package_name", "lower-case"),
    ({"package_name": "_private"}, "package_name", "starting with a letter"),
    ({"package_name": "a" * 51}, "package_name", "use at most 50"),
    ({"description": "line one\nline two"}, "description", "single line"),
    ({"description": "d" * 201}, "description", "use at most 200"),
    ({"author_name": ""}, "author_name", "must not be empty"),
    ({"author_name": "Back\\slash"}, "author_name", "backslashes"),
    ({"author_email": "not-an-email"}, "author_email", "does not look like an e-mail"),
    ({"author_email": "a@b"}, "author_email", "does not look like an e-mail"),
    ({"python_version": "3.10"}, "python_version", "Invalid choice"),
    ({"license": "GPL-3.0"}, "license", "Invalid choice"),
    ({"preset": "enterprise"}, "preset", "Invalid choice"),
    ({"data_versioning": "git-lfs"}, "data_versioning", "Invalid choice"),
    ({"deployment_targets": ["heroku"]}, "deployment_targets", "Invalid choice"),
    ({"deployment_targets": ["kserve"]}, "deployment_targets", "add kubernetes to deploy"),
    ({"deployment_targets": ["seldon", "docker_swarm"]}, "deployment_targets", "or remove seldon"),
    (
        {"model_serving": "none", "deployment_targets": ["docker_compose"]},
        "deployment_targets",
        "answer model_serving=fastapi or deployment_targets=[]",
    ),
    (
        {"training_infrastructure": "kubernetes", "experiment_tracking": "none"},
        "training_infrastructure",
        "answer experiment_tracking=mlflow or training_infrastructure=local",
    ),
    (
        {"training_infrastructure": "kubernetes", "model_serving": "none"},
        "training_infrastructure",
        "answer model_serving=fastapi or training_infrastructure=local",
    ),
    ({"training_infrastructure": "slurm"}, "training_infrastructure", "Invalid choice"),
    (
        {"orchestrators": ["kubeflow"], "experiment_tracking": "none"},
        "orchestrators",
        "answer experiment_tracking=mlflow or remove kubeflow from orchestrators",
    ),
    (
        {"orchestrators": ["kubeflow"], "model_serving": "none"},
        "orchestrators",
        "answer model_serving=fastapi or remove kubeflow from orchestrators",
    ),
    ({"orchestrators": ["luigi"]}, "orchestrators", "Invalid choice"),
    ({"monitoring": ["grafana"]}, "monitoring", "add prometheus to monitoring or remove grafana"),
    (
        {"experiment_tracking": "none", "model_serving": "fastapi"},
        "model_serving",
        "answer experiment_tracking=mlflow, or model_serving=none",
    ),
    (
        {"model_serving": "none", "monitoring": ["drift_reports"]},
        "monitoring",
        "answer model_serving=fastapi, or monitoring=[]",
    ),
    (
        {"monitoring": ["prometheus"], "feedback_loop": True},
        "feedback_loop",
        "add drift_reports to monitoring, or answer feedback_loop=false",
    ),
    ({"roles": []}, "roles", "choose at least one role"),
    ({"roles": ["tester"]}, "roles", "Invalid choice"),
    ({"team_handles": {"data_scientist": "acme"}}, "team_handles", "write @name or @org/team"),
    ({"team_handles": {"data_scientist": "@a b"}}, "team_handles", "is not a handle"),
    (
        {"roles": ["ml_engineer"], "team_handles": {"data_scientist": "@acme/ds"}},
        "team_handles",
        "add it to roles or remove it from team_handles",
    ),
    ({"team_handles": ["@acme"]}, "team_handles", "must be a mapping role -> handle"),
]


def answer_id(answers: dict[str, Any]) -> str:
    return "-".join(f"{key}={value}" for key, value in answers.items())[:60]


@pytest.mark.parametrize(
    ("answers", "question", "message"), BAD_ANSWERS, ids=[answer_id(a) for a, _, _ in BAD_ANSWERS]
)
def test_bad_input_is_refused_and_nothing_is_written(
    template: Path, tmp_path: Path, answers: dict[str, Any], question: str, message: str
) -> None:
    destination = tmp_path / "project"
    with pytest.raises(ValueError, match=re.escape(message)) as refused:
        render(answers, destination, template=template)
    assert f"'{question}'" in str(refused.value)
    assert not destination.exists()


def test_a_refused_answer_leaves_an_existing_destination_untouched(
    template: Path, tmp_path: Path
) -> None:
    destination = tmp_path / "existing"
    destination.mkdir()
    (destination / "notes.md").write_text("the team's work\n", encoding="utf-8")
    with pytest.raises(ValueError):
        render({"project_slug": "Not A Slug"}, destination, template=template)
    assert [p.name for p in destination.iterdir()] == ["notes.md"]
    assert (destination / "notes.md").read_text(encoding="utf-8") == "the team's work\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("project_slug=Bad Slug", "project_slug"),
        ("deployment_targets=[kserve]", "add kubernetes to deployment_targets"),
    ],
)
def test_the_command_line_exits_non_zero_with_the_message(
    template: Path, tmp_path: Path, data: str, message: str
) -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "copier", "copy", "--defaults", "--vcs-ref", "HEAD"),
            *("--data", data, str(template), str(tmp_path / "project")),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "project").exists()


def test_names_are_derived_from_the_project_name(template: Path, tmp_path: Path) -> None:
    project = render(
        {"project_name": "Churn Prediction (EU) v2"}, tmp_path / "p", template=template
    )
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["project_slug"] == "churn-prediction-eu-v2"
    assert answers["package_name"] == "churn_prediction_eu_v2"
    assert (project / "src" / "churn_prediction_eu_v2" / "cli.py").is_file()


def test_unicode_project_names_render(template: Path, tmp_path: Path) -> None:
    project = render({"project_name": "Détection de fraude"}, tmp_path / "p", template=template)
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# Détection de fraude\n")
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    # Accented letters lose their accents in the names derived from the project name.
    assert answers["project_slug"] == "detection-de-fraude"


def test_every_asked_question_has_help_type_and_default() -> None:
    for name, question in asked_questions().items():
        assert question.get("type") in {"str", "bool", "int", "float", "yaml", "json"}, name
        assert len(question.get("help", "")) > 20, name
        assert "default" in question, name


def test_component_help_texts_cite_the_paper() -> None:
    components = [
        "ci_provider", "data_versioning", "experiment_tracking", "orchestrators", "feature_store",
        "feature_engine", "training_infrastructure", "model_serving", "deployment_targets",
        "monitoring", "feedback_loop", "roles",
    ]  # fmt: skip
    for name in components:
        assert re.search(r"\b[PCR][1-9]\b", asked_questions()[name]["help"]), name


def test_unknown_answer_keys_are_refused_by_the_render_helper() -> None:
    with pytest.raises(KeyError, match="ci_providers"):
        check_answer_keys({"ci_providers": "none"})


def test_reserved_names_cover_this_python() -> None:
    text = (TEMPLATE_ROOT / "includes" / "python_names.jinja").read_text(encoding="utf-8")
    listed = set(re.findall(r'"([^"]+)"', text))
    assert set(sys.stdlib_module_names) <= listed
    assert set(keyword.kwlist) <= listed
