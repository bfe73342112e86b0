"""Validate: refuse data that breaks the schema (schema.py) or the task (task.py) before anything
trains on it, with one line that names each problem and its fix."""

import logging
from pathlib import Path

import pandas as pd
from pandera.errors import SchemaErrors

from .files import read_table, write_json
from .params import DataParams, Params, ValidationParams
from .schema import build_schema
from .task import CLASSIFICATION, target_problems

# What to do about a failed pandera check, by the check's name.
FIXES = {
    "coerce_dtype('float64')": "it must be numeric: list the numeric columns in data.features "
    "(params.yaml) or encode it in features.py",
    "not_nullable": "fill or drop the empty values, or raise validation.max_missing_fraction",
    "min_rows": "bring more rows, or lower validation.min_rows",
    "isin": "allowed are validation.classes (params.yaml)",
}


logger = logging.getLogger(__name__)


class DataValidationError(ValueError):
    """The raw data failed validation; the message names each failed check and its fix."""


def text_columns(frame: pd.DataFrame, target: str) -> list[str]:
    """Columns other than the target in which no value is a number (ids, names, categories):
    the default model cannot use them, so without data.features they are left out. A column
    with some numbers is a feature, and its other values fail validation."""
    text = []
    for name in frame.columns.drop(target, errors="ignore"):
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) or column.isna().all():
            continue
        if pd.to_numeric(column, errors="coerce").isna().all():
            text.append(str(name))
    return text


def check_columns(frame: pd.DataFrame, data: DataParams) -> None:
    """Refuse a target or feature that the table does not have, naming the columns it has."""
    wanted = {data.target: data.target_column}
    wanted.update(zip(data.features or [], data.feature_columns or [], strict=True))
    missing = [written for written, column in wanted.items() if column not in frame.columns]
    if missing:
        raise DataValidationError(
            f"params.yaml names columns the data lacks: {', '.join(map(repr, missing))}; the "
            f"columns are {', '.join(frame.columns)} (set data.target/data.features to one of "
            "them as the file writes it)"
        )


def describe(error: SchemaErrors) -> str:
    """Each failed check once: the column, the check, examples of the values and the fix."""
    cases = error.failure_cases
    parts = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        examples = ", ".join(repr(value) for value in group["failure_case"].dropna().unique()[:3])
        where = "the table" if pd.isna(column) else f"column {column!r}"
        text = f"{where}: {check}" + (f" (e.g. {examples})" if examples else "")
        fix = next((hint for name, hint in FIXES.items() if str(check).startswith(name)), None)
        parts.append(text + (f": {fix}" if fix else ""))
    return "; ".join(parts)


def validate(
    frame: pd.DataFrame, target: str, params: ValidationParams, features: list[str] | None = None
) -> pd.DataFrame:
    """Return the validated frame, or raise DataValidationError naming each failed check."""
    try:
        checked = build_schema(target, params, features).validate(frame, lazy=True)
    except SchemaErrors as error:
        raise DataValidationError(f"data validation failed: {describe(error)}") from error
    problems = target_problems(checked[target], target)
    if problems:
        raise DataValidationError("data validation failed: " + "; ".join(problems))
    return checked


def run(params: Params, *, raw: Path, report: Path) -> dict[str, object]:
    """Validate the raw data and write the validation report."""
    data = params.data
    frame = read_table(raw)
    check_columns(frame, data)
    features, ignored = data.feature_columns, []
    if features is None:
        ignored = text_columns(frame, data.target_column)
        features = [name for name in frame.columns if name not in {data.target_column, *ignored}]
        if ignored:
            logger.warning(
                "text columns left out of the features: %s (list data.features to choose)",
                ", ".join(ignored),
            )
    frame = validate(frame, data.target_column, params.validation, features)
    target = frame[data.target_column]
    summary: dict[str, object] = {
        "rows": len(frame),
        "columns": len(frame.columns),
        "features": features,
        "text_columns_left_out": ignored,
        "passed": True,
    }
    if CLASSIFICATION:
        summary["class_counts"] = {str(k): int(v) for k, v in target.value_counts().items()}
    else:
        summary["target"] = {"min": float(target.min()), "max": float(target.max())}
    write_json(report, summary)
    return summary
