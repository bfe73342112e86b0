"""Features: choose the model inputs and split the data into reproducible train and test sets.

The split is a pure function of each row's `record_id` (its position in the raw table), the seed
and the label, so any engine that numbers rows the same way makes exactly the same split."""

import numpy as np
import pandas as pd

from .files import read_table, write_json, write_table
from .params import DataParams, SplitParams
from .paths import FEATURES, RAW_DATA, TEST_DATA, TRAIN_DATA

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


def write_feature_spec(columns: list[str], target: str) -> dict[str, object]:
    """The feature list that training, serving and monitoring share."""
    spec = {"features": columns, "target": target}
    write_json(FEATURES, spec)
    return spec


def run(data: DataParams, params: SplitParams) -> dict[str, object]:
    """Write the train and test tables and the feature list."""
    table = feature_table(read_table(RAW_DATA), data.target)
    test = is_test(table, data.target, params)
    write_table(TRAIN_DATA, table[~test].reset_index(drop=True))
    write_table(TEST_DATA, table[test].reset_index(drop=True))
    return write_feature_spec(feature_columns(table, data.target), data.target)
