"""Validate: refuse data that breaks the schema (schema.py) or the task (task.py) before anything
trains on it, with one line that names each problem and its fix."""

import logging
from pathlib import Path

import pandas as pd
from pandera.errors import SchemaErrors

from .files import read_table, write_json
from .params import DataParams, Params, ValidationParams
from .schema import build_schema
from .task import CLASSIFICATION, plain, target_problems

# What to do about a failed pandera check, by the check's name.
EMPTY_VALUES = "fill or drop the empty values, or raise validation.max_missing_fraction"
FIXES = {
    "coerce_dtype('float64')": "it must be numeric: list the numeric columns in data.features "
    "(params.yaml) or encode it in features.py",
    "not_nullable": EMPTY_VALUES,
    "max_missing_fraction": EMPTY_VALUES,
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


def fix_for(check: object) -> str:
    """What to do about a failed check, or nothing when there is no general advice."""
    return next((f": {hint}" for name, hint in FIXES.items() if str(check).startswith(name)), "")


def describe(error: SchemaErrors, rows: int) -> str:
    """Each failed check once: the column, the check, examples of the values and the fix."""
    cases = error.failure_cases
    coerced = set(cases.loc[cases["check"].astype(str).str.startswith("coerce_dtype"), "column"])
    parts = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        if str(check).startswith("dtype(") and column in coerced:
            continue  # the same values as the failed coercion
        if pd.isna(column):
            parts.append(f"the table ({rows} rows): {check}{fix_for(check)}")
            continue
        # A column-wide check reports True/False, not values: no examples then.
        failed = [v for v in group["failure_case"].dropna().unique() if not pd.api.types.is_bool(v)]
        values = ", ".join(repr(plain(v)) for v in failed[:3])
        examples = f" (e.g. {values})" if values else ""
        parts.append(f"column {column!r}: {check}{examples}{fix_for(check)}")
    return "; ".join(parts)


def choose_features(
    frame: pd.DataFrame, target: str, chosen: list[str] | None
) -> tuple[list[str], list[str]]:
    """The feature columns (`chosen`, else every column but the target and the text columns) and
    the text columns left out."""
    if chosen is not None:
        return list(chosen), []
    left_out = text_columns(frame, target)
    return [name for name in frame.columns if name not in {target, *left_out}], left_out


def validate(
    frame: pd.DataFrame, target: str, params: ValidationParams, features: list[str] | None = None
) -> pd.DataFrame:
    """Return the validated frame, or raise DataValidationError naming each failed check.
    `features` None: every column but the target and the text columns (choose_features)."""
    problems = target_problems(frame[target], target)
    if problems:
        raise DataValidationError("data validation failed: " + "; ".join(problems))
    columns, _ = choose_features(frame, target, features)
    try:
        # The schema sees the target and the features only: other columns are not its business.
        return build_schema(target, params).validate(frame[[*columns, target]], lazy=True)
    except SchemaErrors as error:
        failed = describe(error, len(frame))
        raise DataValidationError(f"data validation failed: {failed}") from error


def run(params: Params, *, raw: Path, report: Path) -> dict[str, object]:
    """Validate the raw data and write the validation report."""
    data = params.data
    frame = read_table(raw)
    check_columns(frame, data)
    features, ignored = choose_features(frame, data.target_column, data.feature_columns)
    if ignored:
        logger.warning(
            "text columns left out of the features: %s (list data.features to choose)",
            ", ".join(ignored),
        )
    target = validate(frame, data.target_column, params.validation, features)[data.target_column]
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
