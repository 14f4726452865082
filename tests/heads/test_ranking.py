"""The ranking head, the ranking_ce loss and group-wise prediction and scoring."""

from __future__ import annotations

import math

import pytest
import torch

from mtdnn.config import build
from mtdnn.errors import ConfigurationError
from mtdnn.functional import group_softmax, group_top
from mtdnn.heads import Head, RankingHead, RankingOutput
from mtdnn.losses import Loss
from mtdnn.metrics import Metric
from mtdnn.registry import Registry
from mtdnn.types import EncoderOutput, TaskBatch

# Two queries: group 7 with candidates 0-2 (candidate 1 relevant), group 3 with 3-4 (4 relevant).
GROUPS = torch.tensor([7, 7, 7, 3, 3])
LABELS = torch.tensor([1, 0, 1, 1, 0])  # label id 0 ('entailment') is relevant
SCORES = torch.tensor([[0.5], [2.0], [1.0], [3.0], [1.0]])


def _batch(groups: torch.Tensor | None = GROUPS) -> TaskBatch:
    return TaskBatch(task="qnli", inputs={}, labels=LABELS, ids=tuple("abcde"), groups=groups)


def _head(registry: Registry, **options: object) -> RankingHead:
    config = {"type": "ranking", **options}
    head = build(registry, Head, config, path="head", input_dim=8, num_labels=2, task="qnli")
    assert isinstance(head, RankingHead)
    return head


def test_builds_from_config_and_scores_each_pair(registry: Registry) -> None:
    head = _head(registry, hidden_dim=4, gamma=2.0)
    pooled = torch.randn(5, 8)
    output = head(EncoderOutput(hidden=pooled[:, None], mask=torch.ones(5, 1), pooled=pooled), _batch())
    assert isinstance(output, RankingOutput)
    assert output.logits.shape == (5, 1)
    assert output.groups is GROUPS
    assert head.predict(output).shape == (5,)
    assert head.probabilities(output).shape == (5, 2)


def test_needs_two_labels(registry: Registry) -> None:
    with pytest.raises(ConfigurationError, match="exactly 2 labels"):
        build(registry, Head, "ranking", path="head", input_dim=8, num_labels=3, task="t")
    with pytest.raises(ConfigurationError, match="positive"):
        _head(registry, positive=2)


def test_predictions_mark_the_top_candidate_of_each_group(registry: Registry) -> None:
    head = _head(registry)
    output = RankingOutput(logits=SCORES, groups=GROUPS)
    # positive = 0: top of each group gets id 0, the others id 1.
    assert head.predict(output).tolist() == [1, 0, 1, 0, 1]
    probabilities = head.probabilities(output)
    first = torch.softmax(torch.tensor([0.5, 2.0, 1.0]), 0)
    second = torch.softmax(torch.tensor([3.0, 1.0]), 0)
    torch.testing.assert_close(probabilities[:, 0], torch.cat([first, second]))
    torch.testing.assert_close(probabilities.sum(-1), torch.ones(5))
    flipped = _head(registry, positive=1)
    assert flipped.predict(output).tolist() == [0, 1, 0, 1, 0]
    # Without groups each pair is its own group, so every pair is its group's top.
    assert head.predict(RankingOutput(logits=SCORES)).tolist() == [0, 0, 0, 0, 0]


def test_group_helpers_handle_ties_and_any_ids() -> None:
    scores = torch.tensor([1.0, 1.0, 0.0, 5.0])
    groups = torch.tensor([42, 42, 42, -1])
    assert group_top(scores, groups).tolist() == [True, False, False, True]
    torch.testing.assert_close(group_softmax(scores, groups)[:3].sum(), torch.tensor(1.0))
    assert float(group_softmax(scores, groups)[3]) == pytest.approx(1.0)


def test_ranking_ce_is_the_nll_of_the_relevant_candidate(registry: Registry) -> None:
    loss_fn = build(registry, Loss, "ranking_ce", path="loss")
    loss = loss_fn(RankingOutput(logits=SCORES, groups=GROUPS), _batch())
    first = -torch.log_softmax(torch.tensor([0.5, 2.0, 1.0]), 0)[1]
    second = -torch.log_softmax(torch.tensor([3.0, 1.0]), 0)[1]
    assert float(loss) == pytest.approx(float(first + second) / 2, rel=1e-5)
    # Two relevant candidates: NLL of their total probability; a group with none is left out.
    labels = torch.tensor([0, 0, 1, 1, 1])
    batch = TaskBatch(task="qnli", inputs={}, labels=labels, ids=tuple("abcde"), groups=GROUPS)
    expected = -math.log(float(torch.softmax(torch.tensor([0.5, 2.0, 1.0]), 0)[:2].sum()))
    assert float(loss_fn(RankingOutput(logits=SCORES, groups=GROUPS), batch)) == pytest.approx(expected)
    with pytest.raises(ValueError, match="grouped"):
        loss_fn(RankingOutput(logits=SCORES), _batch(groups=None))


def test_gradients_reach_every_parameter_and_a_group_without_relevant_pairs_is_harmless(
    registry: Registry,
) -> None:
    head = _head(registry, hidden_dim=4)
    loss_fn = build(registry, Loss, "ranking_ce", path="loss")
    pooled = torch.randn(5, 8)
    encoded = EncoderOutput(hidden=pooled[:, None], mask=torch.ones(5, 1), pooled=pooled)
    loss_fn(head(encoded, _batch()), _batch()).backward()
    for name, parameter in head.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
    hopeless = TaskBatch(task="qnli", inputs={}, labels=torch.ones(5, dtype=torch.long), groups=GROUPS)
    assert float(loss_fn(head(encoded, hopeless), hopeless).detach()) == 0.0


def test_ranking_accuracy_regroups_across_updates(registry: Registry) -> None:
    metric = build(registry, Metric, "ranking_accuracy", path="metric")
    head = _head(registry)
    output = RankingOutput(logits=SCORES, groups=GROUPS)
    probabilities = head.probabilities(output)
    predictions = head.predict(output)
    # Group 7 is right (candidate 1 tops it), group 3 wrong (candidate 3 tops it, 4 is relevant).
    metric.update(predictions[:3], LABELS[:3], scores=probabilities[:3], groups=GROUPS[:3])
    metric.update(predictions[3:], LABELS[3:], scores=probabilities[3:], groups=GROUPS[3:])
    assert metric.compute() == {"ranking_accuracy": 0.5}
    metric.reset()
    metric.update(predictions, LABELS, groups=GROUPS)  # from the predictions alone
    assert metric.compute() == {"ranking_accuracy": 0.5}
    accuracy = build(registry, Metric, "accuracy", path="metric")
    accuracy.update(predictions, LABELS)
    assert accuracy.compute() == {"accuracy": pytest.approx(3 / 5)}
    metric.reset()
    metric.update(predictions, LABELS)
    with pytest.raises(ValueError, match="group"):
        metric.compute()
