"""The stochastic answer network (SAN) of the MT-DNN paper, section 3, for pairwise classification."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mtdnn.config.checks import check_probability
from mtdnn.errors import ConfigurationError
from mtdnn.functional import symmetric_kl, teacher_kl
from mtdnn.heads.base import HuggingFaceHead, LabelHead, dropout_layer
from mtdnn.types import EncoderOutput, HeadOutput, TaskBatch

__all__ = ["SanHead", "segment_masks"]


class SanHead(LabelHead):
    """Classifies a text pair by K steps of multi-step reasoning over premise and hypothesis memories.

    The encoder's token states are split into a premise memory ``M^p`` (the first text) and a
    hypothesis memory ``M^h`` (the second; see :func:`segment_masks`). The initial state
    ``s_0`` is a learned self-attention summary of ``M^h``. Each step ``t = 1..K`` attends over
    ``M^p`` bilinearly given ``s_{t-1}`` to get ``x_t``, updates ``s_t = GRUCell(x_t, s_{t-1})``
    and predicts ``P_t = softmax(W [s_t; x_t; |s_t - x_t|; s_t * x_t])``. In training each
    example drops each step's prediction with probability ``step_dropout`` (always keeping at
    least one) and averages the kept ``P_t``; in evaluation all K steps are averaged.

    The logits are the **log of the averaged probabilities**, so ``softmax(logits)`` is the
    averaged distribution itself and the ordinary ``cross_entropy`` loss is exactly the negative
    log-likelihood of the averaged prediction, as in the paper. Padding is masked throughout;
    attention and the averaging run in float32, so the head works under autocast.

    Args:
        input_dim: Size of the encoder's token states (supplied at run time).
        num_labels: Number of classes (supplied at run time).
        turns: Number of reasoning steps K (the paper uses 5).
        step_dropout: Probability of dropping one step's prediction in training.
        dropout: Dropout on the memories and on the classifier input.
        hidden_dim: If set, token states are projected to this size to form the memories (and
            the GRU state); otherwise the memories are the token states themselves.
        labels: The task's label names in id order (supplied at run time), for predictions.
    """

    def __init__(
        self,
        input_dim: int,
        num_labels: int,
        *,
        turns: int = 5,
        step_dropout: float = 0.1,
        dropout: float = 0.1,
        hidden_dim: int | None = None,
        labels: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.labels = labels
        if turns < 1:
            raise ConfigurationError(f"turns must be at least 1, got {turns}", path="turns")
        check_probability(step_dropout, path="step_dropout")
        width = hidden_dim if hidden_dim is not None else input_dim
        self.turns = turns
        self.step_dropout = step_dropout
        self.dropout = dropout_layer(dropout)
        self.projection: nn.Module = nn.Identity() if hidden_dim is None else nn.Linear(input_dim, width)
        self.summary = nn.Linear(width, 1)  # self-attention weights over M^h for s_0
        self.bilinear = nn.Linear(width, width, bias=False)  # x_t attention: s W M^p
        self.cell = nn.GRUCell(width, width)
        self.classifier = nn.Linear(4 * width, num_labels)

    def forward(self, encoded: EncoderOutput, batch: TaskBatch) -> HeadOutput:
        """Return log averaged probabilities ``[B, num_labels]`` (float32)."""
        premise_mask, hypothesis_mask = segment_masks(batch.inputs, encoded.mask)
        memory = self.dropout(self.projection(encoded.hidden))
        weights = _masked_softmax(self.summary(memory).squeeze(-1), hypothesis_mask)
        state = torch.einsum("bt,btd->bd", weights.to(memory.dtype), memory)
        steps: list[torch.Tensor] = []
        for _ in range(self.turns):
            scores = torch.einsum("bd,btd->bt", self.bilinear(state), memory)
            attention = _masked_softmax(scores, premise_mask)
            read = torch.einsum("bt,btd->bd", attention.to(memory.dtype), memory)
            state = self.cell(read, state).to(memory.dtype)
            features = torch.cat([state, read, (state - read).abs(), state * read], dim=-1)
            steps.append(torch.log_softmax(self.classifier(self.dropout(features)).float(), dim=-1))
        log_probs = torch.stack(steps, dim=1)  # [B, K, C]
        keep = self._kept_steps(log_probs.shape[0], log_probs.device)
        kept = log_probs.masked_fill(~keep.unsqueeze(-1), float("-inf"))
        averaged = torch.logsumexp(kept, dim=1) - keep.sum(dim=1, keepdim=True).float().log()
        return HeadOutput(logits=averaged)

    def _kept_steps(self, rows: int, device: torch.device) -> torch.Tensor:
        """Which steps each example averages ``[B, K]``: all in eval, a random subset in training."""
        if not self.training or self.step_dropout == 0.0:
            return torch.ones(rows, self.turns, dtype=torch.bool, device=device)
        keep = torch.rand(rows, self.turns, device=device) >= self.step_dropout
        forced = torch.randint(self.turns, (rows,), device=device)
        keep[torch.arange(rows, device=device), forced] = True  # never drop every step
        return keep

    def choose(self, probabilities: torch.Tensor, groups: torch.Tensor | None) -> torch.Tensor:
        """The most probable label id of each example."""
        return probabilities.argmax(dim=-1)

    def probabilities(self, output: HeadOutput) -> torch.Tensor:
        """The averaged per-step distribution, in float32."""
        return torch.softmax(output.logits.float(), dim=-1)

    def export_decoding(self) -> dict[str, Any]:
        """Softmax of the averaged log-probabilities (the distribution itself), then the top label."""
        return {"kind": "label", "scores": "softmax", "choose": "argmax"}

    def export_hf(self) -> HuggingFaceHead:
        """Refused: no Hugging Face head reasons over the two texts in several steps."""
        raise ConfigurationError(
            "the san head reads the premise and the hypothesis separately and reasons over them in "
            f"{self.turns} steps; no standard Hugging Face head does that",
            hint="export it with --format onnx, or train a classification head for --format hf",
        )

    soft_targets = "softmax"

    def divergence(self, a: HeadOutput, b: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """Symmetric KL between the two averaged class distributions, averaged over the batch."""
        return symmetric_kl(a.logits, b.logits)

    def soft_loss(
        self, output: HeadOutput, teacher: torch.Tensor, batch: TaskBatch, *, temperature: float = 1.0
    ) -> torch.Tensor:
        """``KL(teacher || student)`` of the class distributions at ``temperature``, averaged over rows."""
        return teacher_kl(output.logits, teacher.to(output.logits.device), temperature=temperature)


def segment_masks(inputs: dict[str, torch.Tensor], mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split each row's real tokens into premise and hypothesis masks ``[B, T]`` (bool).

    With ``token_type_ids`` the premise is type 0 and the hypothesis type 1. Without them
    (RoBERTa-style models) the row is split after its first separator: the separator is taken to
    be the row's last real token (every BERT/RoBERTa sequence ends with one), and the premise is
    everything up to and including its first occurrence, the hypothesis everything after. A row
    with no second segment (a single sentence) uses the whole sequence for both.
    """
    real = mask.bool()
    types = inputs.get("token_type_ids")
    if types is not None:
        premise, hypothesis = real & (types == 0), real & (types != 0)
    elif "input_ids" in inputs:
        ids = inputs["input_ids"]
        positions = torch.arange(ids.size(1), device=ids.device).expand_as(ids)
        last = torch.where(real, positions, -1).max(dim=1).values.clamp(min=0)
        sep = ids.gather(1, last.unsqueeze(1))
        first = torch.where(real & (ids == sep), positions, ids.size(1)).min(dim=1).values
        premise = real & (positions <= first.unsqueeze(1))
        hypothesis = real & ~premise
    else:
        premise, hypothesis = real, torch.zeros_like(real)
    single = ~hypothesis.any(dim=1, keepdim=True)
    return premise | (single & real), torch.where(single, real, hypothesis)


def _masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last dimension in float32, ignoring positions where ``mask`` is false."""
    scores = scores.float().masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1).nan_to_num(0.0)  # an all-masked row attends to nothing
