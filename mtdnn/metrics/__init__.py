"""Built-in metrics: accumulate predictions and compute named scores."""

from __future__ import annotations

from mtdnn.metrics.averaged_f1 import MacroF1, MicroF1
from mtdnn.metrics.base import Metric
from mtdnn.metrics.classification import F1, Accuracy, MatthewsCorrelation
from mtdnn.metrics.masked_lm import MaskedLmMetric
from mtdnn.metrics.ranking import RankingAccuracy, RocAuc
from mtdnn.metrics.regression import PearsonCorrelation, SpearmanCorrelation
from mtdnn.metrics.seqeval import SeqevalMetric
from mtdnn.metrics.squad import SquadMetric

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
