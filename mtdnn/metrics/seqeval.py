"""Entity-level precision, recall and F1 of sequence labelling, computed by the seqeval library."""

from __future__ import annotations

from typing import Literal, get_args

from mtdnn.errors import ConfigurationError
from mtdnn.metrics.base import DecodedMetric

__all__ = ["Mode", "Scheme", "SeqevalMetric"]

Mode = Literal["default", "strict"]
Scheme = Literal["IOB1", "IOB2", "IOE1", "IOE2", "IOBES", "BILOU"]


class SeqevalMetric(DecodedMetric):
    """Entity-level scores of predicted tag sequences against the examples' gold ``tags``.

    An entity counts as found only when its type and both of its boundaries are right. Scores are
    micro-averaged over all entities: ``f1`` (the main score), ``precision`` and ``recall``, then
    ``f1_TYPE``, ``precision_TYPE`` and ``recall_TYPE`` for every entity type of the data (in
    sorted order). Values are in [0, 1]; an evaluation without entities scores 0.0.

    Args:
        mode: ``default`` reads entities as the CoNLL ``conlleval`` script does (a stray
            ``I-X`` after ``O`` starts an entity); ``strict`` accepts only the entities that are
            well formed under ``scheme`` and ignores the rest, in gold and prediction alike.
        scheme: The tagging scheme of the labels, used by ``strict`` mode.
    """

    def __init__(self, *, mode: Mode = "default", scheme: Scheme = "IOB2") -> None:
        super().__init__()
        for key, value, choices in (("mode", mode, get_args(Mode)), ("scheme", scheme, get_args(Scheme))):
            if value not in choices:
                raise ConfigurationError(
                    f"seqeval {key} must be one of {list(choices)}, got {value!r}", path=key
                )
        self.mode = mode
        self.scheme = scheme

    def compute(self) -> dict[str, float]:
        """Return micro-averaged ``f1``, ``precision`` and ``recall``, then the per-type scores.

        Raises:
            ValueError: An example has no gold tags, or a prediction's length differs from its words.
        """
        gold: list[list[str]] = []
        for prediction, example in zip(self.decoded, self.examples, strict=True):
            if example.tags is None:
                raise ValueError(f"example {example.id!r} has no gold tags to score against")
            if len(prediction) != len(example.tags):
                raise ValueError(
                    f"example {example.id!r}: {len(prediction)} predicted tags for {len(example.tags)} words"
                )
            gold.append(list(example.tags))
        scores = {"f1": 0.0, "precision": 0.0, "recall": 0.0}
        if not gold:
            return scores
        from seqeval.metrics import classification_report

        options = {"mode": "strict", "scheme": _scheme_class(self.scheme)} if self.mode == "strict" else {}
        report = classification_report(
            gold, [list(tags) for tags in self.decoded], output_dict=True, zero_division=0, **options
        )
        summary = report.pop("micro avg")
        scores = {key: float(summary[name]) for key, name in _KEYS}
        for kind in sorted(name for name in report if not name.endswith(" avg")):
            scores.update({f"{key}_{kind}": float(report[kind][name]) for key, name in _KEYS})
        return scores


_KEYS = (("f1", "f1-score"), ("precision", "precision"), ("recall", "recall"))


def _scheme_class(name: Scheme) -> type:
    """seqeval's class for a scheme name."""
    from seqeval import scheme

    found: type = getattr(scheme, name)
    return found
