"""Features: choose the model inputs and split the data into reproducible train and test sets.

The split is a pure function of each row's `record_id` (its position in the raw table), the seed
and the label, so any engine that numbers rows the same way makes exactly the same split."""

from pathlib import Path

import numpy as np
import pandas as pd

from .files import read_json, read_table, write_json, write_table
from .params import Params, SplitParams

RECORD_ID = "record_id"
# Knuth's multiplicative hash spreads consecutive record ids evenly over [0, 2**32); it stays
# within 64-bit integers for tables of up to about three billion rows.
HASH_MULTIPLIER = 2654435761
HASH_MODULUS = 2**32


def feature_columns(frame: pd.DataFrame, target: str) -> list[str]:
    """The numeric columns other than the label and the record id, in table order."""
    numeric = frame.drop(columns=[target, RECORD_ID], errors="ignore").select_dtypes("number")
    return list(numeric.columns)


def feature_table(raw: pd.DataFrame, target: str) -> pd.DataFrame:
    """`record_id`, every feature as float64, then the label."""
    columns = feature_columns(raw, target)
    table = raw[[*columns, target]].astype({name: "float64" for name in columns})
    table.insert(0, RECORD_ID, np.arange(len(raw), dtype="int64"))
    return table


def is_test(table: pd.DataFrame, target: str, params: SplitParams) -> pd.Series:
    """Stratified: within each class, the rows with the lowest hash key make up `test_size`."""
    key = ((table[RECORD_ID] + params.seed) * HASH_MULTIPLIER) % HASH_MODULUS
    ordered = table[[RECORD_ID, target]].assign(key=key).sort_values(["key", RECORD_ID])
    rank = ordered.groupby(target).cumcount()
    class_size = ordered.groupby(target)[target].transform("size")
    quota = np.floor(class_size * params.test_size + 0.5)
    return (rank < quota).reindex(table.index)


def check_validated(rows: int, validation: Path) -> None:
    """Refuse raw data other than the table the validate step passed."""
    checked = read_json(validation)
    if not checked.get("passed") or checked.get("rows") != rows:
        raise ValueError(
            f"the raw data ({rows} rows) is not the table {validation} passed "
            f"({checked.get('rows')} rows): run the validate step first"
        )


def write_feature_spec(path: Path, columns: list[str], target: str) -> dict[str, object]:
    """The feature list that training, serving and monitoring share."""
    spec: dict[str, object] = {"features": columns, "target": target}
    write_json(path, spec)
    return spec


def run(
    params: Params, *, raw: Path, validation: Path, train: Path, test: Path, features: Path
) -> dict[str, object]:
    """Write the train and test tables and the feature list."""
    target = params.data.target
    source = read_table(raw)
    check_validated(len(source), validation)
    table = feature_table(source, target)
    in_test = is_test(table, target, params.split)
    write_table(train, table[~in_test].reset_index(drop=True))
    write_table(test, table[in_test].reset_index(drop=True))
    return write_feature_spec(features, feature_columns(table, target), target)
