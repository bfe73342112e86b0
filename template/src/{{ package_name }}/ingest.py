"""Ingest: load the raw dataset and store it as the pipeline's versioned input."""

from pathlib import Path

import pandas as pd

from .files import read_table, write_table
from .params import DataParams, Params, column_name

# The labelled production rows in the feedback folder (written by the feedback loop).
FEEDBACK_TABLE = "labelled.parquet"
# Datasets that ship inside scikit-learn, so every task's demo needs no network: a binary, a
# multiclass (3 wine cultivars) and a regression (disease progression) table: name -> the loader
# in sklearn.datasets (imported only for them, so a team's own file does not pay for it).
BUNDLED = {
    "breast_cancer": "load_breast_cancer",
    "wine": "load_wine",
    "diabetes": "load_diabetes",
}


def load_source(params: DataParams) -> pd.DataFrame:
    """Load `params.source`: `sklearn:<name>` for a bundled dataset, else a CSV/Parquet path."""
    if params.source.startswith("sklearn:"):
        name = params.source.removeprefix("sklearn:")
        if name not in BUNDLED:
            raise ValueError(f"unknown bundled dataset {name!r}; known: {sorted(BUNDLED)}")
        from sklearn import datasets

        frame = getattr(datasets, BUNDLED[name])(as_frame=True).frame
    else:
        path = Path(params.source)
        if not path.is_file():
            raise FileNotFoundError(
                f"data.source {params.source!r} is not a file (relative paths start at the "
                f"project root, {Path.cwd()}): set data.source in params.yaml"
            )
        frame = read_table(path)
    frame = frame.rename(columns=column_name)
    if frame.columns.duplicated().any():
        twins = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise ValueError(f"{params.source}: headers that differ only in punctuation: {twins}")
    if params.max_rows is not None and len(frame) > params.max_rows:
        frame = frame.sample(n=params.max_rows, random_state=params.seed).sort_index()
    return frame.reset_index(drop=True)


def run(params: Params, *, raw: Path, feedback: Path | None = None) -> pd.DataFrame:
    """Load the source, add the labelled rows of the `feedback` folder if any, write `raw`."""
    frame = load_source(params.data)
    if feedback is not None and (feedback / FEEDBACK_TABLE).is_file():
        # Columns that are not features (ids, unused text) are empty in the labelled rows.
        labelled = read_table(feedback / FEEDBACK_TABLE).reindex(columns=frame.columns)
        frame = pd.concat([frame, labelled], ignore_index=True)
    write_table(raw, frame)
    return frame
