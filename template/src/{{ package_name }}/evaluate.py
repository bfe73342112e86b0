"""Evaluate: score the model on the held-out test set and apply the promotion gate (P6)."""

import sys

import joblib
import pandas as pd
from sklearn import metrics as sk_metrics
from sklearn.base import ClassifierMixin

from .files import read_json, read_table, write_json
from .params import GateParams
from .paths import EVALUATION, FEATURES, METRICS, MODEL, TEST_DATA


def score(
    model: ClassifierMixin, test: pd.DataFrame, features: list[str], target: str
) -> dict[str, float]:
    """Classification metrics of `model` on `test`."""
    truth = test[target]
    predicted = model.predict(test[features])
    probability = model.predict_proba(test[features])[:, 1]
    return {
        "accuracy": float(sk_metrics.accuracy_score(truth, predicted)),
        "precision": float(sk_metrics.precision_score(truth, predicted, zero_division=0)),
        "recall": float(sk_metrics.recall_score(truth, predicted, zero_division=0)),
        "f1": float(sk_metrics.f1_score(truth, predicted, zero_division=0)),
        "roc_auc": float(sk_metrics.roc_auc_score(truth, probability)),
    }


def apply_gate(scores: dict[str, float], gate: GateParams) -> dict[str, object]:
    """The gate decision, with what it compared, so a failure explains itself."""
    value = scores[gate.metric]
    return {
        "metric": gate.metric,
        "value": value,
        "min_value": gate.min_value,
        "passed": value >= gate.min_value,
    }


def run(gate: GateParams) -> dict[str, object]:
    """Score the saved model, write the metrics and the gate decision."""
    spec = read_json(FEATURES)
    scores = score(joblib.load(MODEL), read_table(TEST_DATA), spec["features"], spec["target"])
    write_json(METRICS, scores)
    decision = apply_gate(scores, gate)
    write_json(EVALUATION, decision)
    return decision


def check_gate() -> int:
    """Exit status for CI: 0 when the last evaluation passed the gate, 1 otherwise."""
    if not EVALUATION.exists():
        print(f"no evaluation found at {EVALUATION}: run the pipeline first", file=sys.stderr)
        return 1
    decision = read_json(EVALUATION)
    verdict = "passed" if decision["passed"] else "FAILED"
    print(
        f"gate {verdict}: {decision['metric']} = {decision['value']:.4f} "
        f"(minimum {decision['min_value']:.4f})"
    )
    return 0 if decision["passed"] else 1
