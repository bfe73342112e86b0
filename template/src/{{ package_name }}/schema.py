"""The data schema: yours to change. `copier update` never overwrites this file once it exists.

Describe your data with pandera (https://pandera.readthedocs.io): column types, allowed values,
missing-value limits, table-wide checks. The validate step refuses data that breaks it."""

import re

import pandera.pandas as pa

from .params import ValidationParams


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
