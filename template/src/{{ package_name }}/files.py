"""Small helpers shared by the pipeline steps for reading and writing their files."""

import json
import shutil
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write `payload` as stable, human-readable JSON, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON file written by `write_json`."""
    return json.loads(path.read_text(encoding="utf-8"))


def write_table(path: Path, frame: "pd.DataFrame") -> None:
    """Write a table as Parquet, creating the folder (and replacing a Parquet folder, as Spark
    writes, left at the same path)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        shutil.rmtree(path)
    # Microsecond timestamps: nanoseconds are not readable by every engine (Spark refuses them).
    frame.to_parquet(path, index=False, coerce_timestamps="us", allow_truncated_timestamps=True)


def read_table(path: Path) -> "pd.DataFrame":
    """Read a CSV or Parquet table, chosen by the file suffix."""
    import pandas as pd  # on first use: commands that read no table do not pay for pandas

    if path.suffix == ".csv":
        return pd.read_csv(path)
    if path.suffix in {".parquet", ".pq"}:
        return pd.read_parquet(path)
    raise ValueError(f"{path}: unsupported table format {path.suffix!r}; use .csv or .parquet")


def rotated_files(path: Path) -> list[Path]:
    """A log and its rotated files (`name.1` newest, `name.2` before it ...), oldest first."""
    numbered = [
        (int(older.name.rsplit(".", 1)[1]), older)
        for older in path.parent.glob(f"{path.name}.*")
        if older.name.rsplit(".", 1)[1].isdigit()
    ]
    present = [path] if path.is_file() else []
    return [older for _, older in sorted(numbered, reverse=True)] + present


def read_json_lines(path: Path, last: int | None = None) -> list[dict[str, Any]]:
    """The newest `last` objects of a JSON-lines log across its rotated files, all of them when
    `last` is None; [] when there is none."""
    kept: deque[str] = deque(maxlen=last)
    for part in rotated_files(path):
        with part.open(encoding="utf-8") as handle:
            kept.extend(line for line in handle if line.strip())
    return [json.loads(line) for line in kept]
