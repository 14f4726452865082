"""The seqeval metric: entity-level scores against hand-computed cases, default and strict mode."""

from __future__ import annotations

import pytest

from mtdnn.errors import ConfigurationError
from mtdnn.metrics import SeqevalMetric
from mtdnn.types import Example


def _examples(*gold: list[str]) -> list[Example]:
    return [
        Example(id=str(i), text_a=" ".join("w" * len(tags)), words=tuple("w" * len(tags)), tags=tuple(tags))
        for i, tags in enumerate(gold)
    ]


GOLD = [
    ["B-Disease", "I-Disease", "O", "B-Chemical", "O"],
    ["O", "B-Disease", "O", "O"],
]
PREDICTED = [
    ["B-Disease", "I-Disease", "O", "B-Chemical", "I-Chemical"],  # Disease right, Chemical too long
    ["O", "B-Disease", "O", "B-Disease"],  # Disease right, one spurious Disease
]


def test_entity_level_micro_and_per_type_scores() -> None:
    metric = SeqevalMetric()
    metric.add(PREDICTED, _examples(*GOLD))
    scores = metric.compute()
    # gold entities: Disease(0-1), Chemical(3), Disease(1) = 3; predicted: Disease(0-1),
    # Chemical(3-4), Disease(1), Disease(3) = 4; correct: the two gold Disease entities = 2
    assert scores["precision"] == pytest.approx(2 / 4)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert list(scores)[:3] == ["f1", "precision", "recall"]
    # Chemical: 0 of 1 predicted right; Disease: 2 of 3 predicted, 2 of 2 gold
    assert scores["f1_Chemical"] == 0.0
    assert scores["precision_Disease"] == pytest.approx(2 / 3) and scores["recall_Disease"] == 1.0


def test_strict_mode_ignores_entities_that_break_the_scheme() -> None:
    gold = [["O", "B-Gene", "I-Gene", "O"]]
    predicted = [["O", "I-Gene", "I-Gene", "O"]]  # starts with I-: conlleval reads it as an entity
    default = SeqevalMetric()
    default.add(predicted, _examples(*gold))
    assert default.compute()["f1"] == 1.0
    strict = SeqevalMetric(mode="strict", scheme="IOB2")
    strict.add(predicted, _examples(*gold))
    assert strict.compute()["f1"] == 0.0  # no well-formed IOB2 entity was predicted


def test_empty_and_malformed_inputs() -> None:
    metric = SeqevalMetric()
    assert metric.compute() == {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    metric.add([["O"]], _examples(["O", "O"]))
    with pytest.raises(ValueError, match="1 predicted tags for 2 words"):
        metric.compute()
    metric.reset()
    metric.add([["O"]], [Example(id="u", text_a="w", words=("w",))])
    with pytest.raises(ValueError, match="'u' has no gold tags"):
        metric.compute()
    with pytest.raises(ConfigurationError, match="mode must be one of"):
        SeqevalMetric(mode="lenient")  # type: ignore[arg-type]
