"""Features: choose the model inputs and split the data into reproducible train and test sets.

The split is a pure function of each row's `record_id` (its position in the raw table) and the
seed, stratified by label for classification (task.py), so any engine that numbers rows the same
way makes exactly the same split."""

from pathlib import Path

import numpy as np
import pandas as pd

from .files import read_json, read_table, write_json, write_table
from .params import Params, SplitParams
from .task import CLASSIFICATION, split_problems

RECORD_ID = "record_id"
# Knuth's multiplicative hash spreads consecutive record ids evenly over [0, 2**32); it stays
# within 64-bit integers for tables of up to about three billion rows.
HASH_MULTIPLIER = 2654435761
HASH_MODULUS = 2**32


class SplitError(ValueError):
    """The train/test split cannot be used; the message names the fix."""


def feature_columns(frame: pd.DataFrame, target: str, chosen: list[str] | None = None) -> list[str]:
    """`chosen` (data.features), else the numeric columns other than the label and the record id,
    in table order."""
    if chosen is not None:
        return list(chosen)
    numeric = frame.drop(columns=[target, RECORD_ID], errors="ignore").select_dtypes("number")
    return list(numeric.columns)


def feature_table(raw: pd.DataFrame, target: str, chosen: list[str] | None = None) -> pd.DataFrame:
    """`record_id`, every feature as float64, then the label."""
    columns = feature_columns(raw, target, chosen)
    table = raw[[*columns, target]].astype({name: "float64" for name in columns})
    table.insert(0, RECORD_ID, np.arange(len(raw), dtype="int64"))
    return table


def is_test(table: pd.DataFrame, target: str, params: SplitParams) -> pd.Series:
    """The rows with the lowest hash key make up `test_size` of the table (of each class, for
    classification)."""
    key = ((table[RECORD_ID] + params.seed) * HASH_MULTIPLIER) % HASH_MODULUS
    ordered = table[[RECORD_ID, target]].assign(key=key).sort_values(["key", RECORD_ID])
    groups = ordered[target] if CLASSIFICATION else pd.Series(0, index=ordered.index)
    rank = ordered.groupby(groups).cumcount()
    group_size = ordered.groupby(groups)[RECORD_ID].transform("size")
    quota = np.floor(group_size * params.test_size + 0.5)
    return (rank < quota).reindex(table.index)


def check_validated(rows: int, validation: Path) -> dict:
    """Refuse raw data other than the table the validate step passed; returns its report, which
    names the feature columns it checked."""
    checked = read_json(validation)
    if not checked.get("passed") or checked.get("rows") != rows:
        raise ValueError(
            f"the raw data ({rows} rows) is not the table {validation} passed "
            f"({checked.get('rows')} rows): run the validate step first"
        )
    return checked


def check_split(train: pd.DataFrame, test: pd.DataFrame, target: str) -> None:
    problems = split_problems(train, test, target)
    if problems:
        raise SplitError("; ".join(problems))


def write_feature_spec(path: Path, columns: list[str], target: str) -> dict[str, object]:
    """The feature list that training, serving and monitoring share."""
    spec: dict[str, object] = {"features": columns, "target": target}
    write_json(path, spec)
    return spec


def run(
    params: Params, *, raw: Path, validation: Path, train: Path, test: Path, features: Path
) -> dict[str, object]:
    """Write the train and test tables and the feature list."""
    target = params.data.target_column
    source = read_table(raw)
    chosen = check_validated(len(source), validation).get("features", params.data.feature_columns)
    table = feature_table(source, target, chosen)
    in_test = is_test(table, target, params.split)
    train_rows = table[~in_test].reset_index(drop=True)
    test_rows = table[in_test].reset_index(drop=True)
    check_split(train_rows, test_rows, target)
    write_table(train, train_rows)
    write_table(test, test_rows)
    return write_feature_spec(features, feature_columns(table, target, chosen), target)
