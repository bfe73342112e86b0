"""Where each pipeline step reads and writes, relative to the project root."""

from pathlib import Path

PARAMS = Path("params.yaml")
RAW_DATA = Path("data/raw/dataset.parquet")
PROCESSED_DIR = Path("data/processed")
TRAIN_DATA = PROCESSED_DIR / "train.parquet"
TEST_DATA = PROCESSED_DIR / "test.parquet"
FEATURES = PROCESSED_DIR / "features.json"
MODEL = Path("models/model.joblib")
REPORTS_DIR = Path("reports")
VALIDATION_REPORT = REPORTS_DIR / "validation.json"
METRICS = REPORTS_DIR / "metrics.json"
EVALUATION = REPORTS_DIR / "evaluation.json"
REGISTRATION = REPORTS_DIR / "registration.json"
MODEL_CARD = Path("docs/model_card.md")
