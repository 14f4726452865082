"""The typed state a training run exposes to callbacks, and the flags they may flip."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["TrainerControl", "TrainerState"]


@dataclass
class TrainerState:
    """Where training stands; owned by the trainer, read by callbacks, saved in checkpoints.

    Args:
        epoch: The current 0-based epoch.
        batches_done: Mini-batches of the current epoch already trained on.
        global_step: Optimizer steps taken so far.
        total_steps: Optimizer steps the whole run will take.
        best_score: Best validation score so far (higher is better).
        best_epoch: Epoch that reached it.
        evaluations_since_best: Evaluations since the best score last improved.
        last_metrics: The most recent validation metrics (``task -> name -> value``).
        best_metrics: The validation metrics of the best evaluation.
        evaluations: Evaluations done so far (lines in ``metrics.jsonl``).
        stopped: A callback stopped training (a resumed run then ends at once).
    """

    epoch: int = 0
    batches_done: int = 0
    global_step: int = 0
    total_steps: int = 0
    best_score: float | None = None
    best_epoch: int | None = None
    evaluations_since_best: int = 0
    last_metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    best_metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    evaluations: int = 0
    stopped: bool = False

    def record_evaluation(self, metrics: dict[str, dict[str, float]], score: float | None) -> bool:
        """Count an evaluation and return whether its ``score`` is the best so far (``None`` always is)."""
        improved = score is None or self.best_score is None or score > self.best_score
        if improved:
            self.best_score, self.best_epoch, self.evaluations_since_best = score, self.epoch, 0
            self.best_metrics = metrics
        else:
            self.evaluations_since_best += 1
        self.last_metrics = metrics
        self.evaluations += 1
        return improved

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainerState:
        """Rebuild from :meth:`to_json` output."""
        return cls(**data)


@dataclass
class TrainerControl:
    """The only things a callback can change: ask to stop, save or evaluate."""

    should_stop: bool = False
    should_save: bool = False
    should_evaluate: bool = False
