"""The hook that registers the built-in metrics.

``mtdnn.metrics`` (and torch with it) is imported only when the hook runs, so commands that build no
registry (``mtdnn --help``) start fast.
"""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.registry import Registry


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in metrics."""
    from mtdnn.metrics import (
        F1,
        Accuracy,
        MacroF1,
        MaskedLmMetric,
        MatthewsCorrelation,
        Metric,
        MicroF1,
        PearsonCorrelation,
        RankingAccuracy,
        RocAuc,
        SeqevalMetric,
        SpearmanCorrelation,
        SquadMetric,
    )

    registry.add(Metric, "accuracy", Accuracy)
    registry.add(Metric, "f1", F1)
    registry.add(Metric, "f1_micro", MicroF1)
    registry.add(Metric, "f1_macro", MacroF1)
    registry.add(Metric, "mcc", MatthewsCorrelation)
    registry.add(Metric, "pearson", PearsonCorrelation)
    registry.add(Metric, "spearman", SpearmanCorrelation)
    registry.add(Metric, "auc", RocAuc)
    registry.add(Metric, "ranking_accuracy", RankingAccuracy)
    registry.add(Metric, "masked_lm", MaskedLmMetric)
    registry.add(Metric, "seqeval", SeqevalMetric)
    registry.add(Metric, "squad", SquadMetric)
