"""Small helpers shared by the pipeline steps for reading and writing their files."""

import json
import shutil
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
