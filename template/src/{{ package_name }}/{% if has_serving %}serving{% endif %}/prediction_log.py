"""Append every prediction as one JSON line; monitoring reads this file as production data."""

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from ..task import Predictions
from .model import LoadedModel


class PredictionLog:
    """An append-only JSON-lines file, one line per scored row. Each request's lines go out in one
    write to a file opened for appending, so the workers of one service (and batch scoring) can
    share the file without splitting or mixing lines."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

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
        data = "".join(lines).encode("utf-8")
        with self._lock:
            written = os.write(self._fd, data)
        if written != len(data):  # only a full disk does this to a regular file
            raise OSError(f"{self.path}: wrote {written} of {len(data)} bytes")

    def close(self) -> None:
        """Close the file; closing again does nothing."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
