"""The model: yours to change. `copier update` never overwrites this file once it exists.

Keep the contract: `build_model(params)` returns an unfitted scikit-learn estimator with `fit` and
`predict` (and `predict_proba` for classification); new hyper-parameters go to params.yaml
(`train:`) and params.py (`TrainParams`). The default estimator of the project's task comes from
task.py, so a task switch (`copier update --data ml_task=...`) reaches an untouched model."""

from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .params import TrainParams
from .task import default_estimator


def build_model(params: TrainParams) -> Pipeline:
    """Median imputation (for the missing values validation.max_missing_fraction allows), scaling
    and the task's linear model: a strong, fast baseline to replace with your own."""
    return Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
            ("model", default_estimator(params)),
        ]
    )
