"""Append every prediction as one JSON line; monitoring reads this file as production data."""

import fcntl
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from ..task import Predictions
from .model import LoadedModel, Rows
from .settings import ServingSettings


class PredictionLog:
    """An append-only JSON-lines file, one line per scored row. Each request's lines go out in one
    write to a file opened for appending, so the workers of one service (and batch scoring) can
    share the file without splitting or mixing lines.

    Past `max_bytes` (0: never) the file is renamed `name.1` (`name.1` to `name.2` ..., keeping
    `backups` of them) under a lock the writers share, and each writer moves to the new file
    before its next write. A writer that had not noticed yet appends its lines to `name.1`:
    whole, and read with the rest (`files.read_json_lines`)."""

    def __init__(self, path: Path, max_bytes: int = 0, backups: int = 5) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_bytes = max_bytes
        self.backups = max(backups, 1)
        self._lock = threading.Lock()
        self._fd = self._open()

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _follow(self) -> None:
        """Write to the file at `path` again if another writer rotated the one this one has."""
        try:
            moved = os.stat(self.path).st_ino != os.fstat(self._fd).st_ino
        except FileNotFoundError:
            moved = True
        if moved:
            os.close(self._fd)
            self._fd = self._open()

    def _rotate(self) -> None:
        lock_file = self.path.with_name(self.path.name + ".lock")
        lock = os.open(lock_file, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            # Another writer may have rotated while this one waited for the lock.
            try:
                current = os.stat(self.path)
            except FileNotFoundError:  # rotated, and no writer has opened the new file yet
                current = None
            if (
                current is not None
                and current.st_ino == os.fstat(self._fd).st_ino
                and current.st_size >= self.max_bytes
            ):
                for number in range(self.backups - 1, 0, -1):
                    older = self.path.with_name(f"{self.path.name}.{number}")
                    if older.exists():
                        older.replace(self.path.with_name(f"{self.path.name}.{number + 1}"))
                self.path.replace(self.path.with_name(f"{self.path.name}.1"))
        finally:
            os.close(lock)  # releases the lock
        self._follow()

    def append(
        self,
        request_id: str,
        model: LoadedModel,
        rows: Rows,
        predictions: Predictions,
        out_of_range: list[list[str]] | None = None,
    ) -> None:
        """Log each row with its prediction and the features outside their training range."""
        timestamp = datetime.now(UTC).isoformat()
        scores: list[float | None] = [None] * len(rows)
        if predictions.scores is not None:
            scores = list(predictions.scores)
        outside = out_of_range if out_of_range is not None else model.out_of_range(rows)
        lines = [
            json.dumps(
                {
                    "timestamp": timestamp,
                    "request_id": request_id,
                    "prediction_id": f"{request_id}:{i}",
                    "model_name": model.name,
                    "model_version": model.version,
                    "features": dict(zip(model.features, row, strict=True)),
                    "out_of_range": names,
                    "prediction": label,
                    "score": score,
                }
            )
            + "\n"
            for i, (row, label, score, names) in enumerate(
                zip(rows, predictions.labels, scores, outside, strict=True)
            )
        ]
        data = "".join(lines).encode("utf-8")
        with self._lock:
            if self._fd < 0:  # closed by an app's shutdown, and started again
                self._fd = self._open()
            elif self.max_bytes:
                self._follow()
            written = os.write(self._fd, data)
            if written != len(data):  # only a full disk does this to a regular file
                raise OSError(f"{self.path}: wrote {written} of {len(data)} bytes")
            if self.max_bytes and os.fstat(self._fd).st_size >= self.max_bytes:
                self._rotate()

    def close(self) -> None:
        """Close the file; closing again does nothing."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def open_prediction_log(settings: ServingSettings) -> PredictionLog:
    """The prediction log the settings name, rotated as they say."""
    return PredictionLog(
        settings.prediction_log, settings.prediction_log_max_bytes, settings.prediction_log_backups
    )
