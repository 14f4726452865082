"""Masked language modelling: dynamic masking of the input and a token decoder tied to the embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import torch
from torch import nn
from torch.nn import functional

from mtdnn.data.dataset import TaskData
from mtdnn.encoders.base import Encoder
from mtdnn.errors import ConfigurationError
from mtdnn.functional import symmetric_kl
from mtdnn.heads.base import Head
from mtdnn.types import EncoderOutput, Example, HeadOutput, MaskedTokens, TaskBatch

__all__ = ["IGNORE", "MaskedLmHead"]

IGNORE = -100
"""Target of a token that is not predicted."""

EVAL_SEED = 0
"""Seed of the masks at evaluation: every evaluation scores the same masked tokens."""


class MaskedLmHead(Head):
    """BERT's masked-LM objective as a task head, for pre-training or as an auxiliary task.

    Before the encoder runs (:meth:`prepare`), each batch is masked afresh: every real,
    non-special token is chosen with probability ``mask_probability`` (at least one per
    sequence); a chosen token becomes the mask token with probability ``mask_replace``, a random
    non-special token with probability ``random_replace``, and stays as it is otherwise (BERT's
    80/10/10). The head predicts the original ids of the chosen tokens only (never a
    ``[B, T, V]`` tensor): a dense layer with GELU and LayerNorm, then a decoder whose weights
    are the encoder's word-embedding table where the sizes allow (``tie_weights``). Training
    draws masks from torch's generator (so a resumed run draws the same ones); evaluation
    uses a fixed seed, so held-out scores of different epochs are comparable.

    Args:
        encoder: The shared encoder (run-time; gives the vocabulary and the embeddings).
        input_dim: Size of the encoder's token states (run-time).
        mask_probability: Share of the tokens to predict.
        mask_replace: Share of the chosen tokens replaced by the mask token.
        random_replace: Share of the chosen tokens replaced by a random token.
        tie_weights: Decode with the encoder's word-embedding matrix (plus a bias) instead of a
            separate output matrix.
    """

    self_supervised = True

    def __init__(
        self,
        *,
        encoder: Encoder,
        input_dim: int,
        mask_probability: float = 0.15,
        mask_replace: float = 0.8,
        random_replace: float = 0.1,
        tie_weights: bool = True,
    ) -> None:
        super().__init__()
        if not 0.0 < mask_probability < 1.0:
            raise ConfigurationError(f"mask_probability must be in (0, 1), got {mask_probability}")
        if mask_replace < 0 or random_replace < 0 or mask_replace + random_replace > 1:
            raise ConfigurationError(
                f"mask_replace ({mask_replace}) and random_replace ({random_replace}) must be shares "
                "that sum to at most 1"
            )
        self.vocabulary = encoder.token_vocabulary()
        self.mask_probability = mask_probability
        self.mask_replace = mask_replace
        self.random_replace = random_replace
        embedding = encoder.word_embeddings()
        weight = getattr(embedding, "weight", None)
        if tie_weights and (weight is None or weight.dim() != 2 or weight.size(0) != self.vocabulary.size):
            raise ConfigurationError(
                f"the {type(encoder).__name__} encoder's word embeddings cannot be tied to a decoder",
                hint="set tie_weights: false",
            )
        width = int(weight.size(1)) if tie_weights and weight is not None else input_dim
        self.transform = nn.Sequential(nn.Linear(input_dim, width), nn.GELU(), nn.LayerNorm(width))
        self.bias = nn.Parameter(torch.zeros(self.vocabulary.size))
        # a tuple hides the tied table from this module, so it is saved and optimised once, with the encoder
        self._tied: tuple[nn.Module, ...] = (embedding,) if tie_weights else ()
        self.decoder = None if tie_weights else nn.Linear(width, self.vocabulary.size, bias=False)
        self.special: torch.Tensor
        special_ids = sorted(i for i in self.vocabulary.special_ids if i < self.vocabulary.size)
        self.register_buffer("special", torch.zeros(self.vocabulary.size, dtype=torch.bool), persistent=False)
        self.special[special_ids] = True

    def prepare(self, batch: TaskBatch) -> TaskBatch:
        """Mask the batch's ``input_ids``; the original ids of the chosen tokens become its labels."""
        ids = batch.inputs["input_ids"]
        special = self.special
        generator = None
        if not self.training:
            generator = torch.Generator(device=ids.device).manual_seed(EVAL_SEED)
        candidates = batch.inputs["attention_mask"].bool() & ~special.to(ids.device)[ids]
        draw = torch.rand(ids.shape, device=ids.device, generator=generator)
        chosen = candidates & (draw < self.mask_probability)
        # a sequence with no chosen token gets its candidate with the lowest draw
        empty = ~chosen.any(dim=1) & candidates.any(dim=1)
        lowest = torch.where(candidates, draw, 2.0).argmin(dim=1)
        chosen[empty, lowest[empty]] = True
        labels = torch.where(chosen, ids, IGNORE)
        action = torch.rand(ids.shape, device=ids.device, generator=generator)
        masked = chosen & (action < self.mask_replace)
        randomised = chosen & ~masked & (action < self.mask_replace + self.random_replace)
        allowed = (~special).nonzero().squeeze(1).to(ids.device)
        pick = torch.randint(len(allowed), ids.shape, device=ids.device, generator=generator)
        corrupted = torch.where(masked, self.vocabulary.mask_id, ids)
        corrupted = torch.where(randomised, allowed[pick], corrupted)
        return replace(batch, inputs={**batch.inputs, "input_ids": corrupted}, labels=labels)

    def forward(self, encoded: EncoderOutput, batch: TaskBatch) -> HeadOutput:
        """Score the vocabulary at the chosen tokens of a batch that :meth:`prepare` masked."""
        if batch.labels is None or batch.labels.shape != encoded.mask.shape:
            raise ValueError(
                f"task {batch.task!r}: a masked-LM batch must pass through the head's prepare() first"
            )
        chosen = batch.labels != IGNORE
        rows = chosen.nonzero()[:, 0]
        states = self.transform(encoded.hidden[chosen])
        weight = self._decoder_weight()
        logits = functional.linear(states, weight.to(states.dtype), self.bias.to(states.dtype))
        return HeadOutput(logits=logits, targets=batch.labels[chosen], rows=rows)

    def _decoder_weight(self) -> torch.Tensor:
        module = self._tied[0] if self._tied else self.decoder
        weight = getattr(module, "weight", None)
        assert isinstance(weight, torch.Tensor)
        return weight

    def divergence(self, a: HeadOutput, b: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """Symmetric KL between the two vocabulary distributions at every masked token, averaged.

        Both outputs must come from the same prepared batch (the same masked tokens).
        """
        return symmetric_kl(a.logits, b.logits)

    def row_scores(self, output: HeadOutput, batch: TaskBatch) -> list[torch.Tensor]:
        """Per sequence: ``[masked, correct, summed negative log-likelihood]`` of its masked tokens."""
        targets, rows = _token_targets(output)
        hits = (output.logits.argmax(-1) == targets).float()
        nll = functional.cross_entropy(output.logits.float(), targets, reduction="none")
        values = torch.stack([torch.ones_like(hits), hits, nll], dim=1)
        return list(_per_sequence(values, rows, len(batch.inputs["input_ids"])).cpu())

    def decode(self, data: TaskData, scores: Sequence[torch.Tensor]) -> list[Any]:
        """One :class:`~mtdnn.types.MaskedTokens` per sequence."""
        return [MaskedTokens(masked=int(row[0]), correct=int(row[1]), loss=float(row[2])) for row in scores]

    def record(self, prediction: Any, example: Example) -> dict[str, Any]:
        """``masked``, ``correct`` and ``loss`` (summed over the masked tokens) of one sequence."""
        assert isinstance(prediction, MaskedTokens)
        return {"masked": prediction.masked, "correct": prediction.correct, "loss": round(prediction.loss, 6)}


def _token_targets(output: HeadOutput) -> tuple[torch.Tensor, torch.Tensor]:
    if output.targets is None or output.rows is None:
        raise ValueError("a masked-LM output carries its targets and rows")
    return output.targets, output.rows


def _per_sequence(values: torch.Tensor, rows: torch.Tensor, size: int) -> torch.Tensor:
    """Sum token-level ``values`` ``[M, K]`` into their ``size`` sequences ``[B, K]``."""
    return values.new_zeros(size, values.size(1)).index_add_(0, rows, values)
