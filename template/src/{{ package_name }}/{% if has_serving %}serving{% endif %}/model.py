"""Load the served model from the MLflow registry or from an exported model directory."""

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import Model, get_model_info

from ..task import Predictions, predict

# Written next to MLmodel by `export`, so a baked-in model still reports its registry version.
EXPORT_METADATA = "registered_model.json"
# Records as rows of feature values in the model's order; None is a missing value.
Rows = Sequence[Sequence[float | None]]
_REGISTRY_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$")


class ModelNotAvailableError(RuntimeError):
    """The model URI cannot be resolved or loaded (for example no champion yet)."""


@dataclass(frozen=True)
class LoadedModel:
    """A scikit-learn model with the names of its input features, its registry identity and
    each feature's training range (from the features step, logged with the model)."""

    estimator: Any
    features: list[str]
    name: str
    version: str
    uri: str
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)

    def out_of_range(self, rows: Rows) -> list[list[str]]:
        """For each row, the features whose value lies outside the training range (a missing
        value is not outside)."""
        if not self.ranges:
            return [[] for _ in rows]
        unbounded = (-np.inf, np.inf)
        low, high = np.array([self.ranges.get(name, unbounded) for name in self.features]).T
        values = np.asarray(rows, dtype="float64")  # None becomes NaN, which compares False
        outside = (values < low) | (values > high)
        names = np.array(self.features, dtype=object)
        return [names[row].tolist() if row.any() else [] for row in outside]

    def predict(self, rows: Rows) -> Predictions:
        """Score rows given in `features` order (task.py says what a prediction holds)."""
        # One float block: much cheaper to build and to check than a frame built column by column.
        frame = pd.DataFrame(np.asarray(rows, dtype="float64"), columns=self.features)
        return predict(self.estimator, frame)


def resolve_registry_uri(uri: str) -> tuple[str, str, str]:
    """Turn models:/name@alias or models:/name/version into (name, version, pinned uri)."""
    match = _REGISTRY_URI.match(uri)
    if match is None:
        raise ModelNotAvailableError(f"not a registry model URI: {uri}")
    name = match["name"]
    version = match["version"]
    if version is None:
        try:
            version = mlflow.MlflowClient().get_model_version_by_alias(name, match["alias"]).version
        except mlflow.exceptions.MlflowException as error:
            raise ModelNotAvailableError(
                f"no version of {name} has the alias '{match['alias']}' yet: "
                "run the pipeline so the gate can promote one"
            ) from error
    return name, str(version), f"models:/{name}/{version}"


def load_model(model_uri: str, tracking_uri: str) -> LoadedModel:
    """Load a registry model (`models:/...`) or a local directory written by `export`."""
    # Progress bars would land in the service's (JSON) logs.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if model_uri.startswith("models:/"):
        # Only a registry model needs the tracking store (MLflow also sets the environment).
        mlflow.set_tracking_uri(tracking_uri)
        name, version, pinned = resolve_registry_uri(model_uri)
    else:
        local = Path(model_uri)
        if not (local / "MLmodel").is_file():
            raise ModelNotAvailableError(f"no MLflow model directory at {local}")
        meta_file = local / EXPORT_METADATA
        meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
        name, version, pinned = (
            meta.get("model_name", local.name),
            meta.get("version", "local"),
            str(local),
        )
    try:
        local_model = not pinned.startswith("models:/")
        info = Model.load(pinned) if local_model else get_model_info(pinned)
        estimator = mlflow.sklearn.load_model(pinned)
    except (mlflow.exceptions.MlflowException, OSError) as error:
        raise ModelNotAvailableError(f"cannot load {pinned}: {error}") from error
    if info.signature is None:
        raise ModelNotAvailableError(f"{pinned} has no signature to derive the request schema from")
    # A model logged before ranges were recorded has none: nothing is marked for it.
    logged = (info.metadata or {}).get("feature_ranges", {})
    ranges = {feature: (float(low), float(high)) for feature, (low, high) in logged.items()}
    features = info.signature.inputs.input_names()
    return LoadedModel(estimator, features, name, version, pinned, ranges)


def export_model(model_uri: str, tracking_uri: str, output: Path) -> LoadedModel:
    """Copy a registry model into `output` so an image can serve it without the registry."""
    mlflow.set_tracking_uri(tracking_uri)
    name, version, pinned = resolve_registry_uri(model_uri)
    output.mkdir(parents=True, exist_ok=True)
    mlflow.artifacts.download_artifacts(artifact_uri=pinned, dst_path=str(output))
    (output / EXPORT_METADATA).write_text(json.dumps({"model_name": name, "version": version}))
    return load_model(str(output), tracking_uri)
