"""Feast definitions: the record entity, the pipeline's feature table as source, one feature view.

The pipeline's materialize step registers these objects and loads the online store; the view's
schema is the feature list that the features step wrote, so it follows the data."""

import json
from datetime import timedelta
from pathlib import Path

from feast import Entity, FeatureView, Field, FileSource, ValueType
from feast.types import Float64

FEATURE_LIST = Path("data/processed/features.json")
if not FEATURE_LIST.is_file():
    raise FileNotFoundError(f"{FEATURE_LIST} is missing: run the features step first (make run)")
FEATURES = json.loads(FEATURE_LIST.read_text(encoding="utf-8"))["features"]

record = Entity(
    name="record",
    join_keys=["record_id"],
    value_type=ValueType.INT64,
    description="One row of the dataset, keyed by its position in the raw table.",
)

records_source = FileSource(
    name="records",
    path="data/feature_store/features.parquet",
    timestamp_field="event_timestamp",
    description="The features step's output, stamped with the time of materialisation.",
)

record_features = FeatureView(
    name="record_features",
    entities=[record],
    # How far back a point-in-time lookup may reach for a record's newest values.
    ttl=timedelta(days=365),
    schema=[Field(name=name, dtype=Float64) for name in FEATURES],
    source=records_source,
    online=True,
)
