"""The model: yours to change. `copier update` never overwrites this file once it exists.

Keep the contract: `build_model(params)` returns an unfitted scikit-learn estimator with
`fit`, `predict` and `predict_proba`; new hyper-parameters go to params.yaml (`train:`) and
params.py (`TrainParams`)."""

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .params import TrainParams


def build_model(params: TrainParams) -> Pipeline:
    """Scaling and a logistic regression: a strong, fast baseline to replace with your own."""
    return Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "classify",
                LogisticRegression(C=params.C, max_iter=params.max_iter, random_state=params.seed),
            ),
        ]
    )
