"""Batch scoring: a CSV or Parquet file in, the same rows with predictions out."""

import uuid
from pathlib import Path

import pandas as pd

from ..params import column_name
from .model import LoadedModel
from .prediction_log import PredictionLog

READERS = {".csv": pd.read_csv, ".parquet": pd.read_parquet}


def read_table(path: Path) -> pd.DataFrame:
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ValueError(f"{path}: use a .csv or .parquet file")
    return reader(path)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix.lower() == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        raise ValueError(f"{path}: use a .csv or .parquet file")


def score_file(
    model: LoadedModel,
    source: Path,
    target: Path,
    log: PredictionLog | None,
    allow_missing: bool = False,
) -> int:
    """Score every row of `source`, write it to `target` with the prediction columns; empty
    feature values only when `allow_missing` (the model fills them in)."""
    frame = read_table(source)
    # Headers as the file writes them ("Mean Radius"), normalised as ingest does.
    named = frame.rename(columns=column_name)
    missing = [name for name in model.features if name not in named.columns]
    if missing:
        raise ValueError(f"{source} lacks feature columns: {', '.join(missing)}")
    try:
        values = named[model.features].astype("float64")
    except (TypeError, ValueError) as error:
        raise ValueError(f"{source}: feature columns must be numeric ({error})") from error
    if not allow_missing and values.isna().any().any():
        bad = values.columns[values.isna().any()].tolist()
        raise ValueError(f"{source}: empty values in {', '.join(bad)}")
    rows = values.astype(object).where(values.notna(), None).to_numpy().tolist()
    result = model.predict(rows)
    scored = frame.assign(**result.columns())
    write_table(scored, target)
    if log is not None:
        log.append(f"batch-{uuid.uuid4().hex}", model, rows, result)
    return len(scored)
