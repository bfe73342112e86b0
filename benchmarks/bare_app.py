"""The smallest FastAPI service for the same registered model: the practical ceiling of a Python
service, used by serving.py as a baseline. Started inside the generated project's environment."""

import os

import mlflow.sklearn
import pandas as pd
from fastapi import FastAPI

model = mlflow.sklearn.load_model(os.environ["MODEL_URI"])
app = FastAPI()


@app.post("/predict")
def predict(body: dict) -> dict:
    frame = pd.DataFrame.from_records(body["records"])
    return {"scores": model.predict_proba(frame)[:, 1].tolist()}
