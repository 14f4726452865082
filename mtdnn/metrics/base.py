"""The metric interface: accumulate predictions, then compute named scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from mtdnn.types import Example

__all__ = ["DecodedMetric", "Metric"]


class Metric:
    """Accumulates predictions and gold targets over an evaluation and computes scores.

    :meth:`compute` returns a dict whose *first* key is the metric's main score (used for
    model selection when the metric is a task's first metric). Metrics that need more than
    predictions read the optional per-example ``scores`` (class probabilities) and ``groups``
    (query ids of a ranking task) that :meth:`update` also stores.
    """

    def __init__(self) -> None:
        self._predictions: list[torch.Tensor] = []
        self._targets: list[torch.Tensor] = []
        self._scores: list[torch.Tensor] = []
        self._groups: list[torch.Tensor] = []

    def bind_labels(self, labels: Sequence[str] | None) -> None:
        """Receive the task's label vocabulary in id order (``None`` for real-valued tasks).

        Called once when the task is built, before any evaluation, for metrics that name
        classes in their config (e.g. the negative class a relation F1 leaves out). The
        default ignores it.
        """

    def reset(self) -> None:
        """Forget everything accumulated so far."""
        self._predictions.clear()
        self._targets.clear()
        self._scores.clear()
        self._groups.clear()

    def update(
        self,
        predictions: torch.Tensor,
        targets: torch.Tensor,
        *,
        scores: torch.Tensor | None = None,
        groups: torch.Tensor | None = None,
    ) -> None:
        """Add one batch of examples.

        Args:
            predictions: Predicted class ids or values ``[N]``, or multi-hot vectors ``[N, C]``.
            targets: Gold ids or values ``[N]``, or multi-hot vectors ``[N, C]``.
            scores: Per-class probabilities ``[N, C]`` (or one score per example ``[N]``), for
                metrics that rank examples (AUC, ranking accuracy).
            groups: Integer group id of each example ``[N]`` (ranking tasks).
        """
        self._predictions.append(_rows(predictions))
        self._targets.append(_rows(targets))
        if scores is not None:
            self._scores.append(scores.detach().float().cpu())
        if groups is not None:
            self._groups.append(groups.detach().reshape(-1).long().cpu())

    def gathered(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All predictions and targets seen since the last reset, concatenated."""
        if not self._predictions:
            return torch.empty(0), torch.empty(0)
        return torch.cat(self._predictions), torch.cat(self._targets)

    def gathered_scores(self) -> torch.Tensor | None:
        """All ``scores`` seen since the last reset, or ``None`` when no update passed any."""
        return torch.cat(self._scores) if self._scores else None

    def gathered_groups(self) -> torch.Tensor | None:
        """All ``groups`` seen since the last reset, or ``None`` when no update passed any."""
        return torch.cat(self._groups) if self._groups else None

    def compute(self) -> dict[str, float]:
        """Return the scores over everything accumulated since the last reset."""
        raise NotImplementedError


class DecodedMetric(Metric):
    """Scores the decoded predictions of a structured task against its examples.

    Tasks whose heads decode whole examples (tag sequences of sequence labelling, answer texts of
    extractive QA) are scored by metrics of this kind: :meth:`add` receives one decoded
    prediction per example, in the shape the task's head documents, with the examples as read
    (their ``tags`` or ``answers`` are the gold standard). :meth:`compute` follows :class:`Metric`:
    the first key is the main score.
    """

    def __init__(self) -> None:
        super().__init__()
        self._decoded: list[Any] = []
        self._examples: list[Example] = []

    def reset(self) -> None:
        """Forget everything accumulated so far."""
        super().reset()
        self._decoded.clear()
        self._examples.clear()

    def add(self, predictions: Sequence[Any], examples: Sequence[Example]) -> None:
        """Add decoded predictions, one per example, with their examples.

        Raises:
            ValueError: The two sequences differ in length.
        """
        if len(predictions) != len(examples):
            raise ValueError(f"got {len(predictions)} predictions for {len(examples)} examples")
        self._decoded.extend(predictions)
        self._examples.extend(examples)

    @property
    def decoded(self) -> list[Any]:
        """The decoded predictions added since the last reset."""
        return self._decoded

    @property
    def examples(self) -> list[Example]:
        """The examples added since the last reset, in the order of :attr:`decoded`."""
        return self._examples


def _rows(values: torch.Tensor) -> torch.Tensor:
    """One entry per example: ``[N]``, or ``[N, C]`` for vectors of more than one value."""
    values = values.detach().cpu()
    if values.dim() >= 2 and values.shape[-1] > 1:
        return values.reshape(values.shape[0], -1)
    return values.reshape(-1)
