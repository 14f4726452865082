"""Head.divergence of every built-in head: 0 for equal outputs, > 0 otherwise, a float32 scalar
with gradients into both outputs, and only the positions that the head's loss sees count."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import torch

from mtdnn.encoders import HuggingFaceEncoder
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
from mtdnn.heads.ranking import RankingOutput
from mtdnn.types import HeadOutput, TaskBatch


@dataclass(frozen=True)
class Case:
    """A head, a batch and the logits of one output; ``padding`` marks logits the loss ignores."""

    head: Head
    batch: TaskBatch
    logits: torch.Tensor
    padding: torch.Tensor | None = None
    output: Callable[[torch.Tensor], HeadOutput] = lambda logits: HeadOutput(logits=logits)


def _cases(tiny_bert: Path) -> dict[str, Case]:
    torch.manual_seed(0)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    plain = TaskBatch(task="t", inputs={"attention_mask": mask}, labels=None, ids=("a", "b"))
    groups = torch.tensor([7, 7, 7, 3, 3])
    ranked = replace(plain, groups=groups, ids=tuple("abcde"))
    starts = torch.tensor([[1, 2, 4], [1, 3, -1]])
    words = replace(plain, extras={"word_starts": starts})
    span_padding = (torch.arange(5)[None, :] >= mask.sum(1, keepdim=True))[..., None].expand(2, 5, 2)
    encoder = HuggingFaceEncoder(str(tiny_bert))
    return {
        "classification": Case(ClassificationHead(8, 3), plain, torch.randn(2, 3)),
        "san": Case(SanHead(8, 3), plain, torch.log_softmax(torch.randn(2, 3), -1)),
        "regression": Case(RegressionHead(8), plain, torch.randn(2, 1)),
        "ranking": Case(
            RankingHead(8, 2),
            ranked,
            torch.randn(5, 1),
            output=lambda logits: RankingOutput(logits=logits, groups=groups),
        ),
        "multilabel": Case(MultiLabelHead(8, 4), plain, torch.randn(2, 4)),
        "tagging": Case(
            TaggingHead(8, ["O", "B", "I"]),
            words,
            torch.randn(2, 3, 3),
            padding=(starts < 0)[..., None].expand(2, 3, 3),
        ),
        "span": Case(SpanHead(8), plain, torch.randn(2, 5, 2), padding=span_padding),
        "mlm": Case(MaskedLmHead(encoder=encoder, input_dim=32), plain, torch.randn(4, 30522)),
    }


@pytest.fixture(scope="module")
def cases(tiny_bert: Path) -> dict[str, Case]:
    return _cases(tiny_bert)


HEADS = ["classification", "san", "regression", "ranking", "multilabel", "tagging", "span", "mlm"]


@pytest.mark.parametrize("name", HEADS)
def test_zero_for_equal_outputs_positive_otherwise_with_gradients_into_both(
    cases: dict[str, Case], name: str
) -> None:
    case = cases[name]
    a = case.logits.clone().requires_grad_(True)
    b = (case.logits + 0.5 * torch.randn_like(case.logits)).requires_grad_(True)
    same = case.head.divergence(case.output(a), case.output(a.detach().clone()), case.batch)
    assert same.shape == () and same.dtype == torch.float32
    assert float(same.detach()) == pytest.approx(0.0, abs=1e-6)
    apart = case.head.divergence(case.output(a), case.output(b), case.batch)
    assert apart.shape == () and float(apart.detach()) > 1e-4
    apart.backward()
    assert a.grad is not None and b.grad is not None
    assert a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0
    assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()
    symmetric = case.head.divergence(case.output(b.detach()), case.output(a.detach()), case.batch)
    torch.testing.assert_close(symmetric, apart.detach())


@pytest.mark.parametrize("name", HEADS)
def test_float32_under_bf16_autocast(cases: dict[str, Case], name: str) -> None:
    case = cases[name]
    a, b = case.logits.bfloat16(), (case.logits + 0.5).bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value = case.head.divergence(case.output(a), case.output(b), case.batch)
    assert value.dtype == torch.float32
    reference = case.head.divergence(case.output(a.float()), case.output(b.float()), case.batch)
    torch.testing.assert_close(value, reference)


@pytest.mark.parametrize("name", ["tagging", "span"])
def test_padding_takes_no_part(cases: dict[str, Case], name: str) -> None:
    case = cases[name]
    assert case.padding is not None
    b = case.logits + 0.5 * torch.randn_like(case.logits)
    changed = b.masked_fill(case.padding, 50.0)  # only padded positions change
    before = case.head.divergence(case.output(case.logits), case.output(b), case.batch)
    after = case.head.divergence(case.output(case.logits), case.output(changed), case.batch)
    torch.testing.assert_close(before, after)


def test_ranking_compares_within_groups_and_regression_refuses_a_broadcast(cases: dict[str, Case]) -> None:
    ranking = cases["ranking"]
    shifted = ranking.logits + torch.tensor([[1.0], [1.0], [1.0], [-2.0], [-2.0]])  # constant per group
    value = ranking.head.divergence(ranking.output(ranking.logits), ranking.output(shifted), ranking.batch)
    assert float(value) == pytest.approx(0.0, abs=1e-6)  # a group's softmax ignores a shared shift
    regression = cases["regression"]
    with pytest.raises(ValueError, match="shapes"):
        regression.head.divergence(
            HeadOutput(logits=torch.zeros(2, 1)), HeadOutput(logits=torch.zeros(2)), regression.batch
        )


def test_classification_divergence_is_the_symmetric_kl() -> None:
    p, q = torch.tensor([[0.7, 0.2, 0.1]]), torch.tensor([[0.2, 0.5, 0.3]])
    expected = float((p * (p / q).log()).sum() + (q * (q / p).log()).sum())
    value = ClassificationHead(4, 3).divergence(
        HeadOutput(logits=p.log()), HeadOutput(logits=q.log()), TaskBatch("t", {}, None)
    )
    assert float(value) == pytest.approx(expected, rel=1e-5)
