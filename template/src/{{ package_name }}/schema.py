"""The data schema: yours to change. `copier update` never overwrites this file once it exists.

Describe your data with pandera (https://pandera.readthedocs.io): column types, allowed values,
missing-value limits, table-wide checks. The validate step refuses data that breaks it; task.py
adds the task's own checks of the target (enough classes, a numeric target)."""

import re

import pandera.pandas as pa

from .params import ValidationParams
from .task import target_schema


def build_schema(target: str, params: ValidationParams) -> pa.DataFrameSchema:
    """Every feature (the validate step passes the target and the chosen feature columns) is
    numeric with at most the allowed share of missing values; the target fits the task; the
    table has enough rows."""
    max_missing = params.max_missing_fraction
    return pa.DataFrameSchema(
        columns={
            target: target_schema(getattr(params, "classes", None)),
            rf"^(?!{re.escape(target)}$).+": pa.Column(
                float,
                pa.Check(
                    lambda column: column.isna().mean() <= max_missing,
                    element_wise=False,
                    ignore_na=False,  # the check is about the empty values: keep them
                    name="max_missing_fraction",
                ),
                nullable=max_missing > 0,
                coerce=True,
                regex=True,
            ),
        },
        checks=pa.Check(lambda frame: len(frame) >= params.min_rows, name="min_rows"),
        strict=False,
    )
