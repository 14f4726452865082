"""The hook that registers the built-in heads.

``mtdnn.heads`` (and torch with it) is imported only when the hook runs, so commands that build no
registry (``mtdnn --help``) start fast.
"""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.registry import Registry


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in heads."""
    from mtdnn.heads import (
        ClassificationHead,
        Head,
        MaskedLmHead,
        MultiLabelHead,
        RankingHead,
        RegressionHead,
        SanHead,
        SpanHead,
        TaggingHead,
    )

    registry.add(Head, "classification", ClassificationHead)
    registry.add(Head, "san", SanHead)
    registry.add(Head, "regression", RegressionHead)
    registry.add(Head, "ranking", RankingHead)
    registry.add(Head, "multilabel", MultiLabelHead)
    registry.add(Head, "mlm", MaskedLmHead)
    registry.add(Head, "tagging", TaggingHead)
    registry.add(Head, "span", SpanHead)
