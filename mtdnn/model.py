"""MultiTaskModel: one shared encoder and one head per task."""

from __future__ import annotations

from collections.abc import Mapping

from torch import nn

from mtdnn.encoders.base import Encoder
from mtdnn.heads.base import Head
from mtdnn.types import HeadOutput, TaskBatch

__all__ = ["MultiTaskModel"]


class MultiTaskModel(nn.Module):
    """The MT-DNN architecture: a shared encoder whose output feeds the head of the batch's task.

    Args:
        encoder: The shared text encoder.
        heads: Task name to head.
    """

    def __init__(self, encoder: Encoder, heads: Mapping[str, Head]) -> None:
        super().__init__()
        self.encoder = encoder
        self.heads = nn.ModuleDict(dict(heads))

    def forward(self, batch: TaskBatch) -> HeadOutput:
        """Let the batch's head prepare it (e.g. mask tokens), encode it and apply the head."""
        if batch.task not in self.heads:
            raise KeyError(f"no head for task {batch.task!r}; tasks: {sorted(self.heads)}")
        head = self.head(batch.task)
        batch = head.prepare(batch)
        output: HeadOutput = head(self.encoder(batch.inputs), batch)
        return output

    def head(self, task: str) -> Head:
        """The head of ``task``."""
        head = self.heads[task]
        assert isinstance(head, Head)
        return head
