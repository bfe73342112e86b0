"""Train: fit the model on the training set with fixed seeds (same data and params, same model)."""

from pathlib import Path

import joblib
import pandas as pd
from sklearn.pipeline import Pipeline

from .files import read_json, read_table
from .model import build_model
from .params import Params, TrainParams


def fit(rows: pd.DataFrame, features: list[str], target: str, params: TrainParams) -> Pipeline:
    """Fit a fresh model on `rows`."""
    return build_model(params).fit(rows[features], rows[target])


def save(model: Pipeline, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)


def run(params: Params, *, train: Path, features: Path, model: Path) -> Pipeline:
    """Fit on the train table and save the model."""
    spec = read_json(features)
    fitted = fit(read_table(train), spec["features"], spec["target"], params.train)
    save(fitted, model)
    return fitted
