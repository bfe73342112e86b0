"""Load the served model from the MLflow registry or from an exported model directory."""

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import Model, get_model_info

from ..task import Predictions, predict

# Written next to MLmodel by `export`, so a baked-in model still reports its registry version.
EXPORT_METADATA = "registered_model.json"
_REGISTRY_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$")


class ModelNotAvailableError(RuntimeError):
    """The model URI cannot be resolved or loaded (for example no champion yet)."""


@dataclass(frozen=True)
class LoadedModel:
    """A scikit-learn model with the names of its input features and its registry identity."""

    estimator: Any
    features: list[str]
    name: str
    version: str
    uri: str

    def predict(self, rows: list[list[float]]) -> Predictions:
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
    mlflow.set_tracking_uri(tracking_uri)
    if model_uri.startswith("models:/"):
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
        signature = (Model.load(pinned) if local_model else get_model_info(pinned)).signature
        estimator = mlflow.sklearn.load_model(pinned)
    except (mlflow.exceptions.MlflowException, OSError) as error:
        raise ModelNotAvailableError(f"cannot load {pinned}: {error}") from error
    if signature is None:
        raise ModelNotAvailableError(f"{pinned} has no signature to derive the request schema from")
    return LoadedModel(estimator, signature.inputs.input_names(), name, version, pinned)


def export_model(model_uri: str, tracking_uri: str, output: Path) -> LoadedModel:
    """Copy a registry model into `output` so an image can serve it without the registry."""
    mlflow.set_tracking_uri(tracking_uri)
    name, version, pinned = resolve_registry_uri(model_uri)
    output.mkdir(parents=True, exist_ok=True)
    mlflow.artifacts.download_artifacts(artifact_uri=pinned, dst_path=str(output))
    (output / EXPORT_METADATA).write_text(json.dumps({"model_name": name, "version": version}))
    return load_model(str(output), tracking_uri)
