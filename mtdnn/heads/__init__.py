"""Task-specific heads on top of the shared encoder."""

from __future__ import annotations

from mtdnn.heads.base import Head, LabelHead
from mtdnn.heads.classification import ClassificationHead
from mtdnn.heads.mlm import MaskedLmHead
from mtdnn.heads.multilabel import MultiLabelHead
from mtdnn.heads.ranking import RankingHead, RankingOutput
from mtdnn.heads.regression import RegressionHead
from mtdnn.heads.san import SanHead
from mtdnn.heads.span import SpanHead
from mtdnn.heads.tagging import TaggingHead

__all__ = [
    "ClassificationHead",
    "Head",
    "LabelHead",
    "MaskedLmHead",
    "MultiLabelHead",
    "RankingHead",
    "RankingOutput",
    "RegressionHead",
    "SanHead",
    "SpanHead",
    "TaggingHead",
]
