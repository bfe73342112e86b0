"""Request and response models; the record fields are the model's training features."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, create_model

# JSON numbers only: no strings, booleans, NaN or infinity.
FeatureValue = Annotated[float, Field(strict=True, allow_inf_nan=False)]


def record_model(features: list[str]) -> type[BaseModel]:
    """One input row: every training feature is a required number, nothing else is allowed."""
    # Positional field names with the feature as alias keep any column name valid.
    fields = {f"f{i}": (FeatureValue, Field(alias=name)) for i, name in enumerate(features)}
    return create_model("Record", __config__=ConfigDict(extra="forbid"), **fields)


def request_model(record: type[BaseModel], max_batch_size: int) -> type[BaseModel]:
    return create_model(
        "PredictRequest",
        __config__=ConfigDict(extra="forbid"),
        records=(list[record], Field(min_length=1, max_length=max_batch_size)),
    )


class Prediction(BaseModel):
    prediction: int = Field(description="predicted class")
    score: float = Field(description="probability of the positive class")


class PredictResponse(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    request_id: str
    model_name: str
    model_version: str
    predictions: list[Prediction]


class Status(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    status: str
    model_name: str | None = None
    model_version: str | None = None
    detail: str | None = None


class ValidationProblem(BaseModel):
    message: str
    detail: list[dict]
