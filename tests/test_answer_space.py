"""Answer-space coverage: answers drawn from copier.yml's own choices either are refused by a
validator before anything is written, with a message naming a question, or render a project that
passes the static tier (exact file set by rule, files parse, no leftover Jinja, ruff)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from file_rules import file_set_problems
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from rendering import asked_questions, questions, render, rendered_files
from static_checks import parse_problems, ruff_problems

# About 1.5 s per rendered draw: 120 keep the suite inside CI's time (the pairwise matrix covers
# every pair of component answers already); ANSWER_SPACE_DRAWS=1000 searches deeper.
DRAWS = int(os.environ.get("ANSWER_SPACE_DRAWS", "120"))
# The draws are split into parts that run on different workers; under CI each part has its own
# fixed seed, so the parts draw different answers and a run is repeatable.
PARTS = 2

# Free-text answers: (valid ones, ones the validators must refuse). Valid ones are drawn more
# often, so that most draws get past the names and exercise the component answers.
FREE_TEXT: dict[str, tuple[list[Any], list[Any]]] = {
    "project_name": (["ML Project", "Détection de fraude", "x"], ["", "n" * 81, 'Say "hi"']),
    "project_slug": (["churn-model", "a1-b2"], ["Bad Slug", "../up"]),
    "package_name": (["churn_model", "pkg2"], ["json", "class", "Bad-Name"]),
    "description": (["Scores loan applications."], ["two\nlines"]),
    "author_name": (["Data Team"], [""]),
    "author_email": (["team@example.org"], ["nope"]),
    "team_handles": ([{"data_scientist": "@acme/ds"}, {}], [{"data_scientist": "acme"}, "x"]),
}
VALID_WEIGHT = 6


def choice_values(question: dict[str, Any]) -> list[Any]:
    options = question["choices"]
    return list(options.values()) if isinstance(options, dict) else list(options)


def answer_strategies() -> dict[str, st.SearchStrategy[Any]]:
    strategies: dict[str, st.SearchStrategy[Any]] = {}
    for name, question in asked_questions().items():
        if "choices" in question:
            values = choice_values(question)
            strategies[name] = (
                st.lists(st.sampled_from(values), unique=True)
                if question.get("multiselect")
                else st.sampled_from(values)
            )
        elif question["type"] == "bool":
            strategies[name] = st.booleans()
        elif name in FREE_TEXT:
            valid, invalid = FREE_TEXT[name]
            strategies[name] = st.sampled_from(valid * VALID_WEIGHT + invalid)
    return strategies


def test_every_asked_question_is_drawn() -> None:
    untested = set(asked_questions()) - set(answer_strategies())
    assert not untested, f"add these questions to the answer-space strategies: {untested}"


@pytest.mark.parametrize("part", range(PARTS))
def test_every_draw_is_refused_cleanly_or_renders_a_sound_project(
    template: Path, tmp_path: Path, part: int
) -> None:
    outcomes = {"refused": 0, "rendered": []}
    names = list(questions())

    @settings(
        max_examples=DRAWS // PARTS,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(answers=st.fixed_dictionaries({}, optional=answer_strategies()))
    def draw(answers: dict[str, Any]) -> None:
        destination = tmp_path / f"draw{len(outcomes['rendered']) + outcomes['refused']}"
        try:
            render(answers, destination, template=template)
        except ValueError as refusal:
            message = str(refusal)
            assert any(f"'{name}'" in message for name in names), message
            assert not destination.exists()
            outcomes["refused"] += 1
            return
        recorded = yaml.safe_load((destination / ".copier-answers.yml").read_text("utf-8"))
        assert file_set_problems(rendered_files(destination), recorded) == []
        problems, _ = parse_problems(destination)
        assert problems == []
        outcomes["rendered"].append(destination)

    if os.environ.get("CI"):
        draw = seed(part)(draw)
    draw()

    rendered = outcomes["rendered"]
    print(f"{len(rendered)} rendered, {outcomes['refused']} refused")
    assert rendered and outcomes["refused"], "the draws must reach both outcomes"
    assert ruff_problems(rendered) == ""
