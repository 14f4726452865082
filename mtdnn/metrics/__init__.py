"""Built-in metrics: accumulate predictions and compute named scores."""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.metrics.averaged_f1 import MacroF1, MicroF1
from mtdnn.metrics.base import Metric
from mtdnn.metrics.classification import F1, Accuracy, MatthewsCorrelation
from mtdnn.metrics.masked_lm import MaskedLmMetric
from mtdnn.metrics.ranking import RankingAccuracy, RocAuc
from mtdnn.metrics.regression import PearsonCorrelation, SpearmanCorrelation
from mtdnn.metrics.seqeval import SeqevalMetric
from mtdnn.metrics.squad import SquadMetric
from mtdnn.registry import Registry

__all__ = [
    "F1",
    "Accuracy",
    "MacroF1",
    "MaskedLmMetric",
    "MatthewsCorrelation",
    "Metric",
    "MicroF1",
    "PearsonCorrelation",
    "RankingAccuracy",
    "RocAuc",
    "SeqevalMetric",
    "SpearmanCorrelation",
    "SquadMetric",
]


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in metrics."""
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
