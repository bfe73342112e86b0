"""Validate: refuse data that breaks the schema or the quality rules before anything trains on it.

The schema uses pandera; edit `build_schema` to describe your own data."""

import re

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from .files import read_table, write_json
from .params import DataParams, ValidationParams
from .paths import RAW_DATA, VALIDATION_REPORT


class DataValidationError(ValueError):
    """The raw data failed validation; the message lists every failed check."""


def build_schema(target: str, params: ValidationParams) -> pa.DataFrameSchema:
    """Every feature is numeric with at most the allowed share of missing values; the label is a
    known class; the table has enough rows."""
    max_missing = params.max_missing_fraction
    return pa.DataFrameSchema(
        columns={
            target: pa.Column(int, pa.Check.isin(params.classes), coerce=True),
            rf"^(?!{re.escape(target)}$).+": pa.Column(
                float,
                pa.Check(lambda column: column.isna().mean() <= max_missing, element_wise=False),
                nullable=max_missing > 0,
                coerce=True,
                regex=True,
            ),
        },
        checks=pa.Check(lambda frame: len(frame) >= params.min_rows, name="min_rows"),
        strict=False,
    )


def validate(frame: pd.DataFrame, target: str, params: ValidationParams) -> pd.DataFrame:
    """Return the validated frame, or raise DataValidationError naming each failed check."""
    try:
        return build_schema(target, params).validate(frame, lazy=True)
    except SchemaErrors as error:
        failures = error.failure_cases[["column", "check"]].drop_duplicates()
        lines = [f"  column {row.column}: {row.check}" for row in failures.itertuples()]
        raise DataValidationError("data validation failed:\n" + "\n".join(lines)) from error


def run(data: DataParams, params: ValidationParams) -> dict[str, object]:
    """Validate the raw data and write the validation report."""
    frame = validate(read_table(RAW_DATA), data.target, params)
    report = {
        "rows": len(frame),
        "columns": len(frame.columns),
        "class_counts": {str(k): int(v) for k, v in frame[data.target].value_counts().items()},
        "passed": True,
    }
    write_json(VALIDATION_REPORT, report)
    return report
