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


def feature_table(raw: pd.DataFrame, target: str, columns: list[str]) -> pd.DataFrame:
    """`record_id`, every feature as float64, then the label."""
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


def validated_features(rows: int, validation: Path) -> list[str]:
    """The feature columns the validate step chose and checked; refuses raw data other than the
    table it passed."""
    checked = read_json(validation)
    if not checked.get("passed") or checked.get("rows") != rows or "features" not in checked:
        raise ValueError(
            f"the raw data ({rows} rows) is not the table {validation} passed "
            f"({checked.get('rows')} rows): run the validate step first"
        )
    return list(checked["features"])


def check_split(train: pd.DataFrame, test: pd.DataFrame, target: str) -> None:
    problems = split_problems(train, test, target)
    if problems:
        raise SplitError("; ".join(problems))


def value_ranges(train: pd.DataFrame, columns: list[str]) -> dict[str, list[float]]:
    """Each feature's [lowest, highest] training value (a feature with none has no range)."""
    lowest, highest = train[columns].min(), train[columns].max()
    return {
        name: [float(lowest[name]), float(highest[name])]
        for name in columns
        if pd.notna(lowest[name])
    }


def write_feature_spec(
    path: Path, columns: list[str], target: str, ranges: dict[str, list[float]]
) -> dict[str, object]:
    """The feature list that training, serving and monitoring share, and each feature's training
    range: the model carries it, and the service counts and marks values outside it."""
    spec: dict[str, object] = {"features": columns, "target": target, "ranges": ranges}
    write_json(path, spec)
    return spec


def run(
    params: Params, *, raw: Path, validation: Path, train: Path, test: Path, features: Path
) -> dict[str, object]:
    """Write the train and test tables and the feature list."""
    target = params.data.target_column
    source = read_table(raw)
    columns = validated_features(len(source), validation)
    table = feature_table(source, target, columns)
    in_test = is_test(table, target, params.split)
    train_rows = table[~in_test].reset_index(drop=True)
    test_rows = table[in_test].reset_index(drop=True)
    check_split(train_rows, test_rows, target)
    write_table(train, train_rows)
    write_table(test, test_rows)
    return write_feature_spec(features, columns, target, value_ranges(train_rows, columns))
