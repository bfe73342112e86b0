"""Validate: refuse data that breaks the schema (schema.py) before anything trains on it."""

from pathlib import Path

import pandas as pd
from pandera.errors import SchemaErrors

from .files import read_table, write_json
from .params import Params, ValidationParams
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


def run(params: Params, *, raw: Path, report: Path) -> dict[str, object]:
    """Validate the raw data and write the validation report."""
    target = params.data.target
    frame = validate(read_table(raw), target, params.validation)
    summary = {
        "rows": len(frame),
        "columns": len(frame.columns),
        "class_counts": {str(k): int(v) for k, v in frame[target].value_counts().items()},
        "passed": True,
    }
    write_json(report, summary)
    return summary
