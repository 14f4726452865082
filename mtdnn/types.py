"""Small frozen dataclasses that cross module boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the runtime of exported models imports this module without torch
    import torch

__all__ = [
    "Answer",
    "EncoderOutput",
    "Example",
    "HeadOutput",
    "LabelPrediction",
    "MaskedTokens",
    "SpanPrediction",
    "TaskBatch",
]


@dataclass(frozen=True)
class Answer:
    """A gold answer of an extractive question: its text and where it starts in the context.

    Args:
        text: The answer as it appears in the context.
        start: Character offset of the answer in the context (``Example.text_b``); ``-1`` when the
            answer is known only as text (e.g. BioASQ golden answers not found in a snippet), so it
            can be scored against but not trained on.
    """

    text: str
    start: int

    @property
    def end(self) -> int:
        """Character offset just past the answer (``start + len(text)``)."""
        return self.start + len(self.text)


@dataclass(frozen=True)
class Example:
    """One input example as a reader produces it: raw text, an optional label and a stable id.

    Args:
        id: Stable identifier, unique within the file it came from (used to key predictions
            and soft targets).
        text_a: The first (or only) text.
        text_b: The second text of a pair, or ``None`` for single-sentence tasks.
        label: The gold label as text (classification), a float (regression), a list of texts
            (multi-label classification) or ``None`` (unlabelled test data).
        group: Groups examples that must be scored together, e.g. the candidate answers of one
            question in a ranking task (``None`` when the task has no groups).
        words: The words of a pre-tokenized sentence (sequence labelling); ``text_a`` is then the
            words joined by single spaces.
        tags: One gold label per word of ``words`` (``None`` when unlabelled).
        answers: Gold answers of an extractive question (``text_a``) in a context (``text_b``);
            ``()`` for a question the context does not answer, ``None`` when unlabelled.
    """

    id: str
    text_a: str
    text_b: str | None = None
    label: str | float | list[str] | None = None
    group: str | None = None
    words: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    answers: tuple[Answer, ...] | None = None


@dataclass(frozen=True)
class TaskBatch:
    """A padded batch of one task, ready for the model.

    Args:
        task: Name of the task the batch belongs to.
        inputs: Encoder inputs (``input_ids``, ``attention_mask``, ...), each ``[B, T]``.
        labels: Label ids ``[B]``, float targets ``[B]`` (regression) or multi-hot float
            targets ``[B, C]`` (multi-label), or ``None`` when unlabelled.
        ids: Example ids, in batch order.
        groups: Group index of each example ``[B]`` (equal values share a group, e.g. the
            candidates of one query in a ranking task), or ``None`` when the task has no groups.
        extras: Per-row integer tensors ``[B, L]`` that token-level heads need besides the encoder
            inputs (e.g. ``word_starts``, the input position of each word's first sub-word),
            padded with -1.
    """

    task: str
    inputs: dict[str, torch.Tensor]
    labels: torch.Tensor | None
    ids: tuple[str, ...] = field(default=())
    groups: torch.Tensor | None = None
    extras: dict[str, torch.Tensor] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def to(self, device: torch.device | str) -> TaskBatch:
        """Return the same batch with every tensor on ``device``."""
        inputs = {name: value.to(device, non_blocking=True) for name, value in self.inputs.items()}
        labels = None if self.labels is None else self.labels.to(device, non_blocking=True)
        groups = None if self.groups is None else self.groups.to(device, non_blocking=True)
        extras = {name: value.to(device, non_blocking=True) for name, value in self.extras.items()}
        return replace(self, inputs=inputs, labels=labels, groups=groups, extras=extras)


@dataclass(frozen=True)
class EncoderOutput:
    """What an encoder returns.

    Args:
        hidden: Token states ``[B, T, H]``.
        mask: Attention mask ``[B, T]`` (1 for real tokens).
        pooled: One vector per sequence ``[B, H]`` (the encoder's chosen pooling).
    """

    hidden: torch.Tensor
    mask: torch.Tensor
    pooled: torch.Tensor


@dataclass(frozen=True)
class HeadOutput:
    """What a task head returns.

    Args:
        logits: Raw scores, ``[B, C]`` for classification; ``[M, V]`` for a token-level head that
            scores ``M`` selected tokens (the masked tokens of a masked-LM batch).
        targets: Targets the head derived from its own input rather than from labels (masked-LM:
            the original ids of the ``M`` masked tokens), for the loss and for evaluation.
        rows: For token-level logits, the batch row ``[M]`` each logits row belongs to.
    """

    logits: torch.Tensor
    targets: torch.Tensor | None = None
    rows: torch.Tensor | None = None


@dataclass(frozen=True)
class SpanPrediction:
    """The decoded answer of one extractive question (what a span head predicts per example).

    Args:
        text: The best answer, a substring of the context; ``""`` when the question is predicted
            to have no answer in the context (SQuAD 2.0).
        start: Character offset of ``text`` in the context; ``-1`` for no answer.
        nbest: The candidate answers with their probabilities, most probable first (the best
            non-empty candidates even when ``text`` is ``""``), for metrics that rank answers
            (BioASQ's lenient accuracy and MRR).
    """

    text: str
    start: int
    nbest: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class LabelPrediction:
    """What a head that labels whole examples predicts for one example.

    Args:
        value: The predicted label id (classification, ranking), the ids of the predicted labels
            (multi-label), or the predicted value (regression).
        probabilities: The probability of every label in id order (for regression, the value).
    """

    value: int | float | tuple[int, ...]
    probabilities: tuple[float, ...]


@dataclass(frozen=True)
class MaskedTokens:
    """What a masked-LM head predicts for one sequence: how it did on the tokens masked in it.

    Args:
        masked: The number of tokens masked (and predicted).
        correct: How many of them were predicted exactly.
        loss: The summed negative log-likelihood of their original ids.
    """

    masked: int
    correct: int
    loss: float
