"""Train: fit the model on the training set with fixed seeds (same data and params, same model)."""

from collections.abc import Callable

import joblib
import pandas as pd
from sklearn.pipeline import Pipeline

from .files import read_json, read_table
from .model import build_model
from .params import TrainParams
from .paths import FEATURES, MODEL, TRAIN_DATA


def fit(train: pd.DataFrame, features: list[str], target: str, params: TrainParams) -> Pipeline:
    """Fit a fresh model on `train`."""
    return build_model(params).fit(train[features], train[target])


def run(params: TrainParams, rows: Callable[[], pd.DataFrame] | None = None) -> Pipeline:
    """Fit on the training rows (the train table unless `rows` supplies them) and save the model."""
    spec = read_json(FEATURES)
    train = rows() if rows is not None else read_table(TRAIN_DATA)
    model = fit(train, spec["features"], spec["target"], params)
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, MODEL)
    return model
