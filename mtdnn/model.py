"""MultiTaskModel: one shared encoder and one head per task."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import nullcontext

import torch
from torch import nn

from mtdnn.encoders.base import Encoder
from mtdnn.heads.base import Head
from mtdnn.types import HeadOutput, TaskBatch

__all__ = ["MultiTaskModel", "Perturbation"]

Perturbation = Callable[[torch.Tensor], torch.Tensor]
"""Maps a batch's word embeddings ``[B, T, E]`` to the embeddings the encoder runs on instead."""


class MultiTaskModel(nn.Module):
    """The MT-DNN architecture: a shared encoder whose output feeds the head of the batch's task.

    A batch is first prepared by its head (:meth:`prepare`, e.g. masked-LM masking), once, and
    then run through :meth:`forward` as often as a training objective needs: every forward
    pass of a prepared batch sees the same inputs.

    Args:
        encoder: The shared text encoder.
        heads: Task name to head.
    """

    def __init__(self, encoder: Encoder, heads: Mapping[str, Head]) -> None:
        super().__init__()
        self.encoder = encoder
        self.heads = nn.ModuleDict(dict(heads))

    def prepare(self, batch: TaskBatch) -> TaskBatch:
        """Let the batch's head prepare it for :meth:`forward` (the masked-LM head masks tokens)."""
        return self.head(batch.task).prepare(batch)

    def forward(self, batch: TaskBatch, *, perturb: Perturbation | None = None) -> HeadOutput:
        """Encode a prepared batch and apply its task's head.

        Args:
            batch: A batch that :meth:`prepare` returned.
            perturb: If given, the encoder runs on ``perturb(encoder.embed(inputs))`` in place of
                the word embeddings (adversarial training); position and segment embeddings are
                still added once, by the encoder itself.
        """
        head = self.head(batch.task)
        with nullcontext() if head.reads_tokens else self.encoder.pooled_only():
            if perturb is None:
                encoded = self.encoder(batch.inputs)
            else:
                embedded = perturb(self.encoder.embed(batch.inputs))
                encoded = self.encoder.forward_embedded(batch.inputs, embedded)
        output: HeadOutput = head(encoded, batch)
        return output

    def head(self, task: str) -> Head:
        """The head of ``task``.

        Raises:
            KeyError: The model has no head for ``task``.
        """
        if task not in self.heads:
            raise KeyError(f"no head for task {task!r}; tasks: {sorted(self.heads)}")
        head = self.heads[task]
        assert isinstance(head, Head)
        return head
