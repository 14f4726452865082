"""Pearson and Spearman correlation against scipy and hand-computed values."""

from __future__ import annotations

import pytest
import torch

from mtdnn.config import build
from mtdnn.metrics import Metric, PearsonCorrelation, SpearmanCorrelation
from mtdnn.metrics.regression import average_ranks
from mtdnn.registry import Registry


def _score(metric: Metric, predictions: list[float], targets: list[float]) -> dict[str, float]:
    metric.update(torch.tensor(predictions), torch.tensor(targets))
    return metric.compute()


@pytest.mark.parametrize("seed", range(3))
def test_correlations_match_scipy(seed: int, registry: Registry) -> None:
    stats = pytest.importorskip("scipy.stats")
    generator = torch.Generator().manual_seed(seed)
    targets = torch.randint(0, 6, (200,), generator=generator).double()  # many ties, like STS-B
    predictions = targets + torch.randn(200, generator=generator, dtype=torch.float64) * 2
    pearson = build(registry, Metric, "pearson", path="metric")
    spearman = build(registry, Metric, "spearman", path="metric")
    for metric in (pearson, spearman):
        metric.update(predictions[:120], targets[:120])
        metric.update(predictions[120:], targets[120:])
    assert pearson.compute()["pearson"] == pytest.approx(stats.pearsonr(predictions, targets)[0], abs=1e-9)
    assert spearman.compute()["spearman"] == pytest.approx(stats.spearmanr(predictions, targets)[0], abs=1e-9)


def test_hand_computed_and_degenerate_cases() -> None:
    assert _score(PearsonCorrelation(), [1, 2, 3], [2, 4, 6]) == {"pearson": pytest.approx(1.0)}
    assert _score(SpearmanCorrelation(), [1, 2, 3], [9, 1, 0]) == {"spearman": pytest.approx(-1.0)}
    assert _score(PearsonCorrelation(), [1, 1, 1], [1, 2, 3]) == {"pearson": 0.0}
    assert PearsonCorrelation().compute() == {"pearson": 0.0}
    assert SpearmanCorrelation().compute() == {"spearman": 0.0}
    assert average_ranks(torch.tensor([3.0, 1.0, 3.0, 2.0])).tolist() == [3.5, 1.0, 3.5, 2.0]
