"""Validate: refuse data that breaks the schema (schema.py) before anything trains on it."""

import pandas as pd
from pandera.errors import SchemaErrors

from .files import read_table, write_json
from .params import DataParams, ValidationParams
from .paths import RAW_DATA, VALIDATION_REPORT
from .schema import build_schema


class DataValidationError(ValueError):
    """The raw data failed validation; the message lists every failed check."""


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
