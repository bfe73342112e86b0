"""Monitoring of the served model: data drift between training data and scored traffic."""

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit codes of `drift` and `feedback` (make monitor, make retrain), one contract."""

    # No drift; or, after retraining, a new champion: nothing is left to do.
    OK = 0
    # Drift that is still there: found by `drift`; not fixed by `feedback`, whose retrained model
    # the gate did not promote.
    DRIFT = 1
    # Nothing decided: too few predictions to judge, no training data, or no new labelled rows.
    NOT_DECIDED = 2
