"""The smallest FastAPI service for the same registered model: records in, the model called on a
numpy array, probabilities out; no validation, logging or metrics. The practical ceiling of a
Python service, used by serving.py as a baseline. Started inside the generated project's
environment."""

import os
import warnings

import mlflow.sklearn
import numpy as np
from fastapi import FastAPI

model = mlflow.sklearn.load_model(os.environ["MODEL_URI"])
# The model was fitted on named columns; an array in their order is what it needs.
warnings.filterwarnings("ignore", message="X does not have valid feature names")
app = FastAPI()


@app.post("/predict")
def predict(body: dict) -> dict:
    rows = np.asarray([list(record.values()) for record in body["records"]], dtype="float64")
    return {"scores": model.predict_proba(rows)[:, 1].tolist()}
