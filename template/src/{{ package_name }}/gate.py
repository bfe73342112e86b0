"""The promotion gate (P6): one pure decision, from the candidate's scores, the champion's scores on
the same test set and the gate settings, with the reasons a reviewer reads. `evaluate` makes it and
writes it to reports/evaluation.json; `register` and `make gate` only read it."""

import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .files import read_json
from .params import GateParams
from .paths import EVALUATION
from .task import higher_is_better

PROMOTE, KEEP_CHAMPION, REJECT = "promote", "keep the champion", "reject"


@dataclass(frozen=True)
class Champion:
    """The model in use: its version and scores on today's test set, or why it has none."""

    version: str
    scores: dict[str, float] | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Threshold:
    """One limit: `value` must be at least `limit` (higher is better) or at most it."""

    metric: str
    value: float
    limit: float
    higher_is_better: bool
    passed: bool

    @classmethod
    def check(cls, metric: str, value: float, limit: float) -> "Threshold":
        higher = higher_is_better(metric)
        passed = value >= limit if higher else value <= limit
        return cls(metric, value, limit, higher, passed)

    def describe(self) -> str:
        sign = ">=" if self.higher_is_better else "<="
        return f"{self.metric} {sign} {self.limit:g} ({self.value:.4f})"


def improvement(candidate: float, champion: float, metric: str, relative: bool) -> float:
    """How much better the candidate is, in the metric's direction (negative: worse); relative:
    as a share of the champion's value."""
    gain = candidate - champion if higher_is_better(metric) else champion - candidate
    if not relative:
        return gain
    return gain / abs(champion) if champion else (0.0 if gain == 0 else float("inf"))


@dataclass(frozen=True)
class Comparison:
    """The candidate against the champion on the gate metric."""

    champion_version: str
    metric: str
    champion_value: float
    candidate_value: float
    min_improvement: float
    relative: bool
    improvement: float
    beaten: bool

    def describe(self) -> str:
        unit = "%" if self.relative else ""
        scale = 100 if self.relative else 1
        return (
            f"the champion (version {self.champion_version}, {self.metric} "
            f"{self.champion_value:.4f}) by more than {self.min_improvement * scale:g}{unit} "
            f"({self.improvement * scale:+.4f}{unit})"
        )


@dataclass(frozen=True)
class Decision:
    thresholds: list[Threshold]
    comparison: Comparison | None = None
    # Why the candidate was not compared with a champion, when it was not.
    not_compared: str | None = None
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Every threshold held."""
        return all(threshold.passed for threshold in self.thresholds)

    @property
    def outcome(self) -> str:
        if not self.passed:
            return REJECT
        if self.comparison is not None and not self.comparison.beaten:
            return KEEP_CHAMPION
        return PROMOTE

    @property
    def promote(self) -> bool:
        return self.outcome == PROMOTE

    @property
    def summary(self) -> str:
        """One sentence: the outcome and every rule that led to it."""
        failed = [t.describe() for t in self.thresholds if not t.passed]
        if failed:
            return f"{REJECT}: failed {' and '.join(failed)}"
        reasons = "passed " + " and ".join(t.describe() for t in self.thresholds)
        if self.comparison is not None:
            verb = "and beat" if self.comparison.beaten else "but did not beat"
            reasons += f" {verb} {self.comparison.describe()}"
        elif self.not_compared:
            reasons += f"; {self.not_compared}"
        return f"{self.outcome}: {reasons}"

    def to_record(self) -> dict[str, Any]:
        """What reports/evaluation.json holds: the decision, its reasons and every setting used."""
        return {
            "outcome": self.outcome,
            "promote": self.promote,
            "passed": self.passed,
            "summary": self.summary,
            "thresholds": [asdict(threshold) for threshold in self.thresholds],
            "comparison": None if self.comparison is None else asdict(self.comparison),
            "not_compared": self.not_compared,
            "scores": self.scores,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "Decision":
        comparison = record["comparison"]
        return cls(
            thresholds=[Threshold(**threshold) for threshold in record["thresholds"]],
            comparison=None if comparison is None else Comparison(**comparison),
            not_compared=record["not_compared"],
            scores=record["scores"],
        )


def decide(scores: dict[str, float], champion: Champion | None, gate: GateParams) -> Decision:
    """The promotion decision: every threshold must hold and, when there is a champion that
    could be scored on the same test set, the candidate must beat it on `gate.metric` by more
    than `gate.min_improvement` (absolute, or relative to the champion's value)."""
    missing = sorted(set(gate.limits) - set(scores))
    if missing:
        raise ValueError(f"gate.thresholds name metrics the evaluation lacks: {missing}")
    thresholds = [
        Threshold.check(metric, scores[metric], limit) for metric, limit in gate.limits.items()
    ]
    if champion is None:
        return Decision(thresholds, not_compared="no champion yet", scores=scores)
    if champion.scores is None or gate.metric not in champion.scores:
        reason = champion.problem or f"it has no {gate.metric}"
        return Decision(
            thresholds,
            not_compared=f"judged on the thresholds alone: the champion (version "
            f"{champion.version}) could not be scored on this test set ({reason})",
            scores=scores,
        )
    relative = gate.improvement == "relative"
    previous, value = champion.scores[gate.metric], scores[gate.metric]
    gain = improvement(value, previous, gate.metric, relative)
    comparison = Comparison(
        champion_version=champion.version,
        metric=gate.metric,
        champion_value=previous,
        candidate_value=value,
        min_improvement=gate.min_improvement,
        relative=relative,
        improvement=gain,
        beaten=gain > gate.min_improvement,
    )
    return Decision(thresholds, comparison, scores=scores)


def check_gate(path: Path = EVALUATION) -> int:
    """`make gate`: print the last decision; exit 1 when the candidate failed a threshold."""
    if not path.is_file():
        print(f"no evaluation at {path}: run the pipeline first (make run)", file=sys.stderr)
        return 1
    decision = Decision.from_record(read_json(path))
    print(f"gate: {decision.summary}")
    return 0 if decision.passed else 1
