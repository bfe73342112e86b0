"""Drift check: the training data (reference) against the logged predictions: every feature, and
the predictions against the training labels (categorical for classification, numeric for
regression: task.py)."""

import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

from ..files import read_json, read_json_lines, read_table, write_json
from ..params import MonitoringParams
from ..paths import FEATURES, REPORTS_DIR, TRAIN_DATA
from ..task import CLASSIFICATION
from . import ExitCode

DRIFT_HTML = REPORTS_DIR / "drift.html"
DRIFT_JSON = REPORTS_DIR / "drift.json"
# The column of the report that holds the prediction (the training label in the reference).
PREDICTION = "prediction"
logger = logging.getLogger(__name__)


@dataclass
class DriftResult:
    """What `reports/drift.json` holds. `drift_detected` is None when the check could not run."""

    drift_detected: bool | None
    reason: str
    drifted_share: float | None = None
    drift_share_threshold: float | None = None
    drifted_columns: list[str] = field(default_factory=list)
    # Whether the predictions' distribution moved away from the training labels'.
    prediction_drifted: bool | None = None
    columns: dict[str, dict] = field(default_factory=dict)
    # Logged values outside the training range, per feature, and the rows holding any: inputs
    # the model never saw, told apart from a shift within the range.
    out_of_range: dict[str, int] = field(default_factory=dict)
    out_of_range_rows: int = 0
    reference_rows: int = 0
    current_rows: int = 0
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    @property
    def exit_code(self) -> ExitCode:
        if self.drift_detected is None:
            return ExitCode.NOT_DECIDED
        return ExitCode.DRIFT if self.drift_detected else ExitCode.OK


def read_prediction_log(path: Path, last: int | None = None) -> list[dict]:
    """The newest `last` entries of the prediction log and the files it rotated to (all of them
    when `last` is None); [] when there is none."""
    return read_json_lines(path, last)


def out_of_range_counts(entries: list[dict]) -> tuple[dict[str, int], int]:
    """Per feature, the logged values the service marked outside the training range; and the
    number of entries with any."""
    marked = [entry.get("out_of_range") or [] for entry in entries]
    return dict(Counter(name for names in marked for name in names)), sum(map(bool, marked))


def current_features(entries: list[dict], features: list[str]) -> pd.DataFrame:
    return pd.DataFrame([entry["features"] for entry in entries], columns=features, dtype="float64")


def current_rows(entries: list[dict], features: list[str]) -> pd.DataFrame:
    """The logged features and the prediction of each entry."""
    return current_features(entries, features).assign(
        **{PREDICTION: [entry["prediction"] for entry in entries]}
    )


def _column_verdicts(snapshot: dict) -> dict[str, dict]:
    """Per-column statistic and verdict from the report's ValueDrift metrics."""
    verdicts = {}
    for metric in snapshot["metrics"]:
        config = metric["config"]
        if not config["type"].endswith(":ValueDrift"):
            continue
        statistic, threshold = float(metric["value"]), float(config["threshold"])
        # p-value tests drift below the threshold, distance measures at or above it.
        is_p_value = "p_value" in config["method"]
        drifted = statistic < threshold if is_p_value else statistic >= threshold
        verdicts[config["column"]] = {
            "method": config["method"],
            "statistic": statistic,
            "threshold": threshold,
            "drifted": drifted,
        }
    return verdicts


def check_drift(
    params: MonitoringParams,
    prediction_log: Path,
    *,
    features_path: Path = FEATURES,
    reference_path: Path = TRAIN_DATA,
) -> DriftResult:
    """Compare the training features with the newest logged predictions; write both reports.
    FileNotFoundError when the pipeline has not written the training data yet."""
    spec = read_json(features_path)
    features = [name for name in spec["features"] if name != PREDICTION]
    training = read_table(reference_path)
    labels = {PREDICTION: training[spec["target"]]}
    reference = training[features].astype("float64").assign(**labels)
    entries = read_prediction_log(prediction_log, params.window)
    current = current_rows(entries, features)
    out_of_range, out_of_range_rows = out_of_range_counts(entries)
    if len(current) < params.min_rows:
        result = DriftResult(
            drift_detected=None,
            reason=f"{len(current)} logged predictions in {prediction_log}, "
            f"the check needs at least {params.min_rows} (monitoring.min_rows)",
            out_of_range=out_of_range,
            out_of_range_rows=out_of_range_rows,
            reference_rows=len(reference),
            current_rows=len(current),
        )
        write_json(DRIFT_JSON, asdict(result))
        return result

    if CLASSIFICATION:
        definition = DataDefinition(numerical_columns=features, categorical_columns=[PREDICTION])
    else:
        definition = DataDefinition(numerical_columns=[*features, PREDICTION])
    snapshot = Report([DataDriftPreset(drift_share=params.drift_share)]).run(
        reference_data=Dataset.from_pandas(reference, data_definition=definition),
        current_data=Dataset.from_pandas(current, data_definition=definition),
    )
    DRIFT_HTML.parent.mkdir(parents=True, exist_ok=True)
    snapshot.save_html(str(DRIFT_HTML))
    columns = _column_verdicts(snapshot.dict())
    drifted = sorted(name for name in features if columns[name]["drifted"])
    share = len(drifted) / len(features)
    detected = share >= params.drift_share
    result = DriftResult(
        drift_detected=detected,
        reason=f"{share * 100:.0f}% of the features drifted; the limit is "
        f"{params.drift_share * 100:.0f}% (monitoring.drift_share)",
        drifted_share=share,
        drift_share_threshold=params.drift_share,
        drifted_columns=drifted,
        prediction_drifted=columns[PREDICTION]["drifted"],
        columns=columns,
        out_of_range=out_of_range,
        out_of_range_rows=out_of_range_rows,
        reference_rows=len(reference),
        current_rows=len(current),
    )
    write_json(DRIFT_JSON, asdict(result))
    return result
