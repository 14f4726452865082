"""Micro- and macro-averaged F1, for single-label class ids and for multi-hot (multi-label) vectors."""

from __future__ import annotations

import torch

from mtdnn.metrics.classification import F1, _f1_from_counts

__all__ = ["MacroF1", "MicroF1"]


class MicroF1(F1):
    """F1 of counts pooled over all classes, reported as ``f1_micro``.

    With class ids it is :class:`F1` with ``average: 'micro'``. With multi-hot predictions and
    targets ``[N, C]`` (the ``multilabel`` head, threshold 0.5) the true/false positives and false
    negatives of every (example, label) cell are pooled. An empty evaluation scores 0.0.
    """

    def __init__(self) -> None:
        super().__init__(average="micro")

    def compute(self) -> dict[str, float]:
        """Return ``{"f1_micro": score}``."""
        counts = _label_counts(self)
        if counts is None:
            return {"f1_micro": super().compute()["f1"]}
        tp, fp, fn = (int(column.sum()) for column in counts)
        return {"f1_micro": _f1_from_counts(tp, fp, fn)}


class MacroF1(F1):
    """Unweighted mean of per-class F1, reported as ``f1_macro``.

    With class ids it is :class:`F1` with ``average: 'macro'`` (over every class seen in
    predictions or targets). With multi-hot predictions and targets ``[N, C]`` it averages the
    F1 of every label that is gold or predicted at least once. An empty evaluation scores 0.0.
    """

    def __init__(self) -> None:
        super().__init__(average="macro")

    def compute(self) -> dict[str, float]:
        """Return ``{"f1_macro": score}``."""
        counts = _label_counts(self)
        if counts is None:
            return {"f1_macro": super().compute()["f1"]}
        tp, fp, fn = counts
        seen = [i for i in range(tp.numel()) if tp[i] + fp[i] + fn[i] > 0]
        if not seen:
            return {"f1_macro": 0.0}
        scores = [_f1_from_counts(int(tp[i]), int(fp[i]), int(fn[i])) for i in seen]
        return {"f1_macro": sum(scores) / len(scores)}


def _label_counts(metric: F1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """Per-label true positives, false positives and false negatives of multi-hot data, else ``None``."""
    predictions, targets = metric.gathered()
    if predictions.dim() != 2:
        return None
    if predictions.shape != targets.shape:
        raise ValueError(
            f"{type(metric).__name__}: multi-hot predictions {list(predictions.shape)} and targets "
            f"{list(targets.shape)} differ in shape"
        )
    predicted, gold = predictions > 0.5, targets > 0.5
    return (predicted & gold).sum(0), (predicted & ~gold).sum(0), (~predicted & gold).sum(0)
