"""Tests of accuracy, F1 and Matthews correlation against hand-computed values and sklearn."""

from __future__ import annotations

import math

import pytest
import torch

from mtdnn.errors import ConfigurationError
from mtdnn.metrics.base import Metric
from mtdnn.metrics.classification import F1, Accuracy, MatthewsCorrelation

# Three classes. Confusion matrix [gold, predicted]: [[2, 0, 1], [0, 1, 1], [0, 1, 1]].
MULTI_PRED = [0, 1, 2, 2, 1, 0, 2]
MULTI_GOLD = [0, 2, 2, 1, 1, 0, 0]

# Two classes: class 1 has tp=2, fp=2, fn=1; class 0 has tp=1, fp=1, fn=2.
BINARY_PRED = [1, 1, 1, 1, 0, 0]
BINARY_GOLD = [1, 1, 0, 0, 0, 1]


def _score(metric: Metric, predictions: list[int], targets: list[int]) -> dict[str, float]:
    metric.update(torch.tensor(predictions), torch.tensor(targets))
    return metric.compute()


def test_accuracy() -> None:
    scores = _score(Accuracy(), [0, 1, 1, 0, 2], [0, 1, 0, 0, 2])
    assert list(scores) == ["accuracy"]
    assert scores["accuracy"] == pytest.approx(0.8)
    assert isinstance(scores["accuracy"], float)


def test_accuracy_accumulates_and_resets() -> None:
    metric = Accuracy()
    metric.update(torch.tensor([1, 1]), torch.tensor([1, 0]))
    metric.update(torch.tensor([[0], [0]]), torch.tensor([0, 0]))
    assert metric.compute() == {"accuracy": pytest.approx(0.75)}
    metric.reset()
    assert metric.compute() == {"accuracy": 0.0}


def test_binary_f1_of_the_positive_class() -> None:
    assert _score(F1(), BINARY_PRED, BINARY_GOLD) == {"f1": pytest.approx(4 / 7)}
    assert _score(F1(positive=0), BINARY_PRED, BINARY_GOLD) == {"f1": pytest.approx(2 / 5)}


def test_macro_and_micro_f1_binary() -> None:
    assert _score(F1(average="macro"), BINARY_PRED, BINARY_GOLD)["f1"] == pytest.approx(17 / 35)
    assert _score(F1(average="micro"), BINARY_PRED, BINARY_GOLD)["f1"] == pytest.approx(0.5)


def test_macro_f1_three_classes() -> None:
    # Per class: 2*2/(4+0+1) = 0.8, 2*1/(2+1+1) = 0.5, 2*1/(2+2+1) = 0.4.
    score = _score(F1(average="macro"), MULTI_PRED, MULTI_GOLD)["f1"]
    assert score == pytest.approx((0.8 + 0.5 + 0.4) / 3)
    assert isinstance(score, float)


def test_micro_f1_equals_accuracy() -> None:
    assert _score(F1(average="micro"), MULTI_PRED, MULTI_GOLD)["f1"] == pytest.approx(4 / 7)


def test_f1_undefined_is_zero() -> None:
    assert _score(F1(), [0, 0, 0], [0, 0, 0]) == {"f1": 0.0}
    assert F1().compute() == {"f1": 0.0}


def test_f1_rejects_unknown_average() -> None:
    with pytest.raises(ConfigurationError, match="'weighted'") as caught:
        F1(average="weighted")  # type: ignore[arg-type]
    assert "binary" in str(caught.value)


def test_f1_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        F1("macro")  # type: ignore[misc]


def test_mcc_binary() -> None:
    # tp=3, fp=1, fn=1, tn=3: (9 - 1) / sqrt(4 * 4 * 4 * 4) = 0.5.
    scores = _score(MatthewsCorrelation(), [1, 1, 1, 0, 0, 0, 0, 1], [1, 1, 0, 0, 0, 0, 1, 1])
    assert list(scores) == ["mcc"]
    assert scores["mcc"] == pytest.approx(0.5)
    assert isinstance(scores["mcc"], float)


def test_mcc_three_classes() -> None:
    # c=4, s=7, gold totals (3, 2, 2), predicted totals (2, 2, 3):
    # (4*7 - 16) / sqrt((49 - 17) * (49 - 17)) = 12 / 32.
    assert _score(MatthewsCorrelation(), MULTI_PRED, MULTI_GOLD) == {"mcc": pytest.approx(0.375)}


def test_mcc_extremes() -> None:
    assert _score(MatthewsCorrelation(), [0, 1, 2, 1], [0, 1, 2, 1])["mcc"] == pytest.approx(1.0)
    assert _score(MatthewsCorrelation(), [1, 0, 1, 0], [0, 1, 0, 1])["mcc"] == pytest.approx(-1.0)


@pytest.mark.parametrize(
    ("predictions", "targets"),
    [([1, 0, 1], [1, 1, 1]), ([1, 1, 1], [0, 1, 0]), ([], [])],
    ids=["one-gold-class", "one-predicted-class", "empty"],
)
def test_mcc_undefined_is_zero(predictions: list[int], targets: list[int]) -> None:
    metric = MatthewsCorrelation()
    if predictions:
        metric.update(torch.tensor(predictions), torch.tensor(targets))
    assert metric.compute() == {"mcc": 0.0}


def test_non_contiguous_class_ids() -> None:
    # Same confusion matrix as MULTI_* with classes renamed 0 -> 3, 1 -> 7, 2 -> 9.
    rename = {0: 3, 1: 7, 2: 9}
    predictions = [rename[value] for value in MULTI_PRED]
    targets = [rename[value] for value in MULTI_GOLD]
    assert _score(MatthewsCorrelation(), predictions, targets)["mcc"] == pytest.approx(0.375)
    assert _score(F1(average="macro"), predictions, targets)["f1"] == pytest.approx(1.7 / 3)


@pytest.mark.parametrize("metric", [Accuracy(), F1(), MatthewsCorrelation()], ids=lambda m: type(m).__name__)
def test_length_mismatch_is_an_error(metric: Metric) -> None:
    metric.update(torch.tensor([1, 0, 1]), torch.tensor([1, 0]))
    with pytest.raises(ValueError, match="3 predictions for 2 targets"):
        metric.compute()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("classes", [2, 3, 5])
def test_against_sklearn(seed: int, classes: int) -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    generator = torch.Generator().manual_seed(seed)
    targets = torch.randint(0, classes, (300,), generator=generator)
    noise = torch.randint(0, classes, (300,), generator=generator)
    keep = torch.rand(300, generator=generator) < 0.6
    predictions = torch.where(keep, targets, noise)
    gold, pred = targets.tolist(), predictions.tolist()

    def score(metric: Metric) -> float:
        metric.update(predictions[:150], targets[:150])
        metric.update(predictions[150:], targets[150:])
        return next(iter(metric.compute().values()))

    assert score(Accuracy()) == pytest.approx(sklearn_metrics.accuracy_score(gold, pred))
    assert score(MatthewsCorrelation()) == pytest.approx(sklearn_metrics.matthews_corrcoef(gold, pred))
    for average in ("macro", "micro"):
        expected = sklearn_metrics.f1_score(gold, pred, average=average)
        assert score(F1(average=average)) == pytest.approx(expected)
    if classes == 2:
        for positive in (0, 1):
            expected = sklearn_metrics.f1_score(gold, pred, pos_label=positive)
            assert score(F1(positive=positive)) == pytest.approx(expected)


def test_mcc_matches_phi_formula_on_large_counts() -> None:
    # 1e6 examples; tp=400000, tn=350000, fp=150000, fn=100000.
    predictions = torch.cat([torch.ones(550_000), torch.zeros(450_000)]).long()
    targets = torch.cat(
        [torch.ones(400_000), torch.zeros(150_000), torch.ones(100_000), torch.zeros(350_000)]
    ).long()
    tp, tn, fp, fn = 400_000, 350_000, 150_000, 100_000
    expected = (tp * tn - fp * fn) / math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    metric = MatthewsCorrelation()
    metric.update(predictions, targets)
    assert metric.compute() == {"mcc": pytest.approx(expected)}
