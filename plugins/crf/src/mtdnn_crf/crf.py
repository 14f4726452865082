"""A linear-chain CRF over the tagging head's word scores: IOB2-constrained transitions, Viterbi decoding."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from mtdnn.heads.tagging import TaggingHead
from mtdnn.losses.base import Loss
from mtdnn.types import EncoderOutput, HeadOutput, TaskBatch

__all__ = ["CrfHead", "CrfLoss", "CrfOutput", "allowed_transitions"]

FORBIDDEN = -1e4  # added to a forbidden transition's score: no path through it can win


@dataclass(frozen=True)
class CrfOutput(HeadOutput):
    """The word scores (``logits``, the emissions ``[B, W, C]``) and the CRF's transition scores.

    Args:
        transitions: ``[C, C]``: the score of label ``j`` following label ``i`` (forbidden ones
            already lowered).
        start: ``[B, C]``: the score of each row starting with each label (0 for a window that
            starts inside a sentence, where any label may come first).
        end: ``[C]``: the score of a sentence ending with each label.
    """

    transitions: torch.Tensor | None = None
    start: torch.Tensor | None = None
    end: torch.Tensor | None = None


def allowed_transitions(labels: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Which transitions IOB2 allows: ``[C, C]`` (``i`` then ``j``) and ``[C]`` (a sentence may start with).

    ``I-X`` may only follow ``B-X`` or ``I-X``, so it never starts a sentence or follows ``O``,
    ``B-Y`` or ``I-Y``. Labels that are not ``O``, ``B-...`` or ``I-...`` are unconstrained.
    """

    def parts(label: str) -> tuple[str, str]:
        if label.startswith(("B-", "I-")):
            return label[0], label[2:]
        return label, ""

    split = [parts(label) for label in labels]
    allowed = torch.ones(len(labels), len(labels), dtype=torch.bool)
    start = torch.ones(len(labels), dtype=torch.bool)
    for j, (prefix, kind) in enumerate(split):
        if prefix != "I":
            continue
        start[j] = False
        for i, (before, before_kind) in enumerate(split):
            allowed[i, j] = before in ("B", "I") and before_kind == kind
    return allowed, start


class CrfHead(TaggingHead):
    """The tagging head with a linear-chain CRF on top: learned label transitions, Viterbi decoding.

    Each word is scored as by the ``tagging`` head (from its first sub-word); the CRF adds a
    learned score for each pair of consecutive labels and for the first and last label. Train
    with the ``crf`` loss (the negative log-likelihood of the gold label sequence). With
    ``constrain`` (the default), transitions IOB2 forbids (``O`` then ``I-X``, ``B-X`` then
    ``I-Y``, a sentence starting with ``I-X``) are never predicted. Long sentences are cut into
    windows as by the ``tagging`` head; each window is decoded with Viterbi and each word takes the
    label of the window that owns it.

    Args:
        input_dim: Size of the token states (supplied at run time).
        labels: The task's labels in id order (supplied at run time).
        dropout: Dropout on the token states before the word scores.
        hidden_dim: If set, a tanh hidden layer of this size comes first.
        overlap: Most sub-words that consecutive windows of a long sentence share.
        constrain: Forbid the transitions IOB2 does not allow.
    """

    def __init__(
        self,
        input_dim: int,
        labels: list[str] | None,
        *,
        dropout: float = 0.1,
        hidden_dim: int | None = None,
        overlap: int | None = None,
        constrain: bool = True,
    ) -> None:
        super().__init__(input_dim, labels, dropout=dropout, hidden_dim=hidden_dim, overlap=overlap)
        count = len(self.labels)
        self.transitions = nn.Parameter(torch.zeros(count, count))
        self.start = nn.Parameter(torch.zeros(count))
        self.end = nn.Parameter(torch.zeros(count))
        allowed, start = (
            allowed_transitions(self.labels)
            if constrain
            else (
                torch.ones(count, count, dtype=torch.bool),
                torch.ones(count, dtype=torch.bool),
            )
        )
        self.register_buffer("transition_penalty", (~allowed).float() * FORBIDDEN, persistent=False)
        self.register_buffer("start_penalty", (~start).float() * FORBIDDEN, persistent=False)

    def forward(self, encoded: EncoderOutput, batch: TaskBatch) -> HeadOutput:
        """The word scores ``[B, W, C]`` with the (constrained) transition scores."""
        emissions = super().forward(encoded, batch).logits
        first = batch.extras["first_word"][:, :1].to(emissions.device) == 0  # the row starts its sentence
        penalty: torch.Tensor = self.transition_penalty  # type: ignore[assignment]
        start_penalty: torch.Tensor = self.start_penalty  # type: ignore[assignment]
        start = torch.where(first, self.start + start_penalty, torch.zeros_like(self.start))
        transitions = self.transitions + penalty
        return CrfOutput(logits=emissions, transitions=transitions, start=start, end=self.end)

    def predict(self, output: HeadOutput) -> torch.Tensor:
        """The Viterbi label ids ``[B, W]`` (every word position; padding words get label 0)."""
        assert isinstance(output, CrfOutput)
        words = torch.ones(output.logits.shape[:2], dtype=torch.bool, device=output.logits.device)
        return viterbi(output, words)

    def row_scores(self, output: HeadOutput, batch: TaskBatch) -> list[torch.Tensor]:
        """Each row's Viterbi path as one-hot scores ``[words, C]`` (decoding takes each word's best)."""
        assert isinstance(output, CrfOutput)
        words = batch.extras["word_starts"].to(output.logits.device) >= 0
        path = viterbi(output, words).cpu()
        hot = torch.nn.functional.one_hot(path, num_classes=len(self.labels)).float()
        counts = words.sum(dim=1).tolist()
        return [row[:count] for row, count in zip(hot, counts, strict=True)]


def _parts(output: HeadOutput) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    if not isinstance(output, CrfOutput) or output.transitions is None:
        raise TypeError("the crf loss and decoding need the crf head's output (head: { type: 'crf' })")
    assert output.start is not None and output.end is not None
    emissions = output.logits.float()
    start = output.start.float().expand(emissions.shape[0], emissions.shape[-1])  # [C] or [B, C]
    return emissions, output.transitions.float(), start, output.end.float()


def log_likelihood(output: HeadOutput, labels: torch.Tensor, words: torch.Tensor) -> torch.Tensor:
    """The log-probability of each row's gold label sequence ``[B]`` (words where ``words`` is true).

    Words must be a prefix of each row (real words first, then padding).
    """
    emissions, transitions, start, end = _parts(output)
    labels = labels.clamp(min=0)
    rows = torch.arange(emissions.shape[0], device=emissions.device)
    # the gold path's score
    score = start[rows, labels[:, 0]] + emissions[rows, 0, labels[:, 0]]
    for position in range(1, emissions.shape[1]):
        before, now = labels[:, position - 1], labels[:, position]
        step = transitions[before, now] + emissions[rows, position, now]
        score = score + step * words[:, position]
    lengths = words.sum(dim=1)
    last = labels[rows, (lengths - 1).clamp(min=0)]
    score = score + end[last]
    # the log partition function: forward algorithm
    alpha = start + emissions[:, 0]  # [B, C]
    for position in range(1, emissions.shape[1]):
        moved = torch.logsumexp(alpha.unsqueeze(2) + transitions.unsqueeze(0), dim=1)
        following = moved + emissions[:, position]
        alpha = torch.where(words[:, position].unsqueeze(1), following, alpha)
    partition = torch.logsumexp(alpha + end, dim=1)
    return score - partition


def viterbi(output: HeadOutput, words: torch.Tensor) -> torch.Tensor:
    """The best label sequence of each row ``[B, W]`` under the CRF (label 0 after a row's last word)."""
    emissions, transitions, start, end = _parts(output)
    best = start + emissions[:, 0]
    pointers = []
    for position in range(1, emissions.shape[1]):
        scores = best.unsqueeze(2) + transitions.unsqueeze(0)  # [B, from, to]
        top, arg = scores.max(dim=1)
        inside = words[:, position].unsqueeze(1)
        best = torch.where(inside, top + emissions[:, position], best)
        identity = torch.arange(best.shape[1], device=best.device).expand_as(arg)
        pointers.append(torch.where(inside, arg, identity))  # a padding step keeps the label
    label = (best + end).argmax(dim=1)
    path = [label]
    for pointer in reversed(pointers):
        label = pointer.gather(1, label.unsqueeze(1)).squeeze(1)
        path.append(label)
    result = torch.stack(list(reversed(path)), dim=1)
    return torch.where(words, result, torch.zeros_like(result))


class CrfLoss(Loss):
    """The negative log-likelihood of the gold label sequence under the ``crf`` head, per word.

    The sum over the batch's rows divided by its number of real words, so that its scale matches
    the ``cross_entropy`` loss of the ``tagging`` head.
    """

    def __call__(self, output: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """Mean negative log-likelihood per word."""
        if batch.labels is None:
            raise ValueError(f"task {batch.task!r}: a batch without labels cannot be trained on")
        words = batch.labels >= 0
        return -log_likelihood(output, batch.labels, words).sum() / words.sum().clamp(min=1)
