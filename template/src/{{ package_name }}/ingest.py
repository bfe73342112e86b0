"""Ingest: load the raw dataset and store it as the pipeline's versioned input."""

import re
from pathlib import Path

import pandas as pd
from sklearn import datasets

from .files import read_table, write_table
from .params import DataParams, Params

# The labelled production rows in the feedback folder (written by the feedback loop).
FEEDBACK_TABLE = "labelled.parquet"
# Datasets that ship inside scikit-learn, so the default pipeline needs no network.
BUNDLED = {"breast_cancer": datasets.load_breast_cancer}


def snake_case(name: str) -> str:
    """`mean radius` -> `mean_radius`: column names that are valid identifiers everywhere."""
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()


def load_source(params: DataParams) -> pd.DataFrame:
    """Load `params.source`: `sklearn:<name>` for a bundled dataset, else a CSV/Parquet path."""
    if params.source.startswith("sklearn:"):
        name = params.source.removeprefix("sklearn:")
        if name not in BUNDLED:
            raise ValueError(f"unknown bundled dataset {name!r}; known: {sorted(BUNDLED)}")
        frame = BUNDLED[name](as_frame=True).frame
    else:
        frame = read_table(Path(params.source))
    frame = frame.rename(columns=snake_case)
    if params.max_rows is not None and len(frame) > params.max_rows:
        frame = frame.sample(n=params.max_rows, random_state=params.seed).sort_index()
    return frame.reset_index(drop=True)


def run(params: Params, *, raw: Path, feedback: Path | None = None) -> pd.DataFrame:
    """Load the source, add the labelled rows of the `feedback` folder if any, write `raw`."""
    frame = load_source(params.data)
    if feedback is not None and (feedback / FEEDBACK_TABLE).is_file():
        labelled = read_table(feedback / FEEDBACK_TABLE)[frame.columns]
        frame = pd.concat([frame, labelled], ignore_index=True)
    write_table(raw, frame)
    return frame
