"""The JSON records of label predictions, as ``mtdnn predict`` writes them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["label_name", "label_record"]

LabelValue = int | float | tuple[int, ...]


def label_name(value: LabelValue, labels: Sequence[str] | None) -> Any:
    """A prediction's value as the user reads it: the label name(s) (the id where unnamed), or the value."""
    if isinstance(value, float):
        return value
    names = labels or []
    if isinstance(value, tuple):
        return [names[i] if i < len(names) else str(i) for i in value]
    return names[value] if value < len(names) else str(value)


def label_record(
    value: LabelValue, probabilities: Sequence[float], labels: Sequence[str] | None
) -> dict[str, Any]:
    """``label`` (``labels`` for multi-label) and per-label ``probabilities``; ``prediction`` for a value.

    Probabilities are rounded to six decimals.
    """
    if isinstance(value, float):
        return {"prediction": value}
    key = "labels" if isinstance(value, tuple) else "label"
    names = [label_name(i, labels) for i in range(len(probabilities))]
    rounded = dict(zip(names, (round(float(p), 6) for p in probabilities), strict=True))
    return {key: label_name(value, labels), "probabilities": rounded}
