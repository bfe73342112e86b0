"""Append every prediction as one JSON line; monitoring reads this file as production data."""

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from ..task import Predictions
from .model import LoadedModel


class PredictionLog:
    """An append-only JSON-lines file, one line per scored row."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._file = path.open("a", encoding="utf-8")

    def append(
        self,
        request_id: str,
        model: LoadedModel,
        rows: list[list[float]],
        predictions: Predictions,
    ) -> None:
        timestamp = datetime.now(UTC).isoformat()
        scores: list[float | None] = [None] * len(rows)
        if predictions.scores is not None:
            scores = list(predictions.scores)
        lines = [
            json.dumps(
                {
                    "timestamp": timestamp,
                    "request_id": request_id,
                    "prediction_id": f"{request_id}:{i}",
                    "model_name": model.name,
                    "model_version": model.version,
                    "features": dict(zip(model.features, row, strict=True)),
                    "prediction": label,
                    "score": score,
                }
            )
            + "\n"
            for i, (row, label, score) in enumerate(
                zip(rows, predictions.labels, scores, strict=True)
            )
        ]
        # One write per request keeps concurrent appends from interleaving.
        with self._lock:
            self._file.write("".join(lines))
            self._file.flush()

    def close(self) -> None:
        self._file.close()
