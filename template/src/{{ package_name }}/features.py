"""Features: choose the model inputs and split the data into reproducible train and test sets."""

import pandas as pd
from sklearn.model_selection import train_test_split

from .files import read_table, write_json, write_table
from .params import DataParams, SplitParams
from .paths import FEATURES, RAW_DATA, TEST_DATA, TRAIN_DATA


def feature_columns(frame: pd.DataFrame, target: str) -> list[str]:
    """The numeric columns other than the label, in table order."""
    numeric = frame.drop(columns=[target]).select_dtypes("number")
    return list(numeric.columns)


def split(
    frame: pd.DataFrame, target: str, params: SplitParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified split, so both sets keep the class balance."""
    train, test = train_test_split(
        frame, test_size=params.test_size, random_state=params.seed, stratify=frame[target]
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def run(data: DataParams, params: SplitParams) -> dict[str, object]:
    """Write the train and test tables and the feature list that training and serving share."""
    frame = read_table(RAW_DATA)
    columns = feature_columns(frame, data.target)
    selected = frame[[*columns, data.target]].astype({name: "float64" for name in columns})
    train, test = split(selected, data.target, params)
    write_table(TRAIN_DATA, train)
    write_table(TEST_DATA, test)
    spec = {"features": columns, "target": data.target}
    write_json(FEATURES, spec)
    return spec
