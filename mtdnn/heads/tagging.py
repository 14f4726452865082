"""Sequence labelling (NER): one label per word, read from the word's first sub-word."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from mtdnn.data.dataset import TaskData, all_labelled
from mtdnn.data.words import word_pieces
from mtdnn.encoders.base import Encoder, Features
from mtdnn.errors import ConfigurationError, DataError
from mtdnn.functional import IGNORED, squared_error, symmetric_kl, teacher_kl
from mtdnn.heads.base import Head, HuggingFaceHead, dropout_layer, linear_layers, output_layers
from mtdnn.portable.entities import tagging_record
from mtdnn.portable.windows import word_windows
from mtdnn.types import EncoderOutput, Example, HeadOutput, TaskBatch

__all__ = ["TaggingHead"]


class TaggingHead(Head):
    """Labels every word of a pre-tokenized sentence (``Example.words``) from its first sub-word.

    Only the first sub-word of a word is classified; the other sub-words and the special tokens
    get no label at all. A sentence longer than ``max_length`` is cut into windows of whole words
    that overlap by up to ``overlap`` sub-words; in training every window is an example, and in
    prediction each word takes the label of the window where it has the most context, so every
    word gets exactly one prediction. A word longer than a whole window keeps its first sub-words.

    Decoded predictions are one label (text) per word. Train with the ``cross_entropy`` loss and
    score with ``seqeval``.

    Args:
        input_dim: Size of the token states (supplied at run time).
        labels: The task's labels in id order (supplied at run time from the reader or config).
        dropout: Dropout on the token states before the classifier.
        hidden_dim: If set, a tanh hidden layer of this size comes first.
        overlap: Most sub-words that consecutive windows of a long sentence share; by default a
            quarter of ``max_length``.
    """

    input_words = True

    def __init__(
        self,
        input_dim: int,
        labels: list[str] | None,
        *,
        dropout: float = 0.1,
        hidden_dim: int | None = None,
        overlap: int | None = None,
    ) -> None:
        super().__init__()
        if not labels:
            raise ConfigurationError(
                "a tagging head needs the task's labels",
                hint="use a reader that declares its tags, or give the task 'labels'",
            )
        if overlap is not None and overlap < 0:
            raise ConfigurationError(f"overlap must not be negative, got {overlap}", path="overlap")
        self.labels = list(labels)
        self.overlap = overlap
        self.dropout = dropout_layer(dropout)
        self.classifier = output_layers(input_dim, len(labels), dropout=dropout, hidden_dim=hidden_dim)

    def featurize(
        self,
        task: str,
        examples: list[Example],
        encoder: Encoder,
        *,
        max_length: int,
        labels: Sequence[str] | None,
        source: str,
    ) -> TaskData:
        """Cut each sentence into windows; a row's target is the label id of each of its words.

        Raises:
            DataError: An example has no words, or a label outside the task's labels.
        """
        if not examples:
            raise DataError("the file holds no examples", file=source)
        index = {label: i for i, label in enumerate(self.labels)}
        labelled = all_labelled(examples, "tags", source=source)
        for example in examples:
            _check_example(example, index, source)
        specials = encoder.special_tokens(pair=False)
        features: list[Features] = []
        extras: list[Features] = []
        targets: list[tuple[int, ...]] = []
        owners: list[int] = []
        sentences = word_pieces(encoder, [example.words or () for example in examples])
        for number, (example, pieces) in enumerate(zip(examples, sentences, strict=True)):
            for window in word_windows(
                pieces, max_length=max_length, specials=specials, overlap=self.overlap
            ):
                row, offset, _ = encoder.build_inputs(window.ids)
                features.append(row)
                extras.append(
                    {
                        "word_starts": window.starts(offset),
                        "owned": window.owned,
                        "first_word": [window.first],
                    }
                )
                if example.tags is not None:
                    end = window.first + len(window.lengths)
                    targets.append(tuple(index[tag] for tag in example.tags[window.first : end]))
                owners.append(number)
        return TaskData(
            task=task,
            examples=tuple(examples),
            features=tuple(features),
            targets=tuple(targets) if labelled else None,
            owners=tuple(owners),
            extras=tuple(extras),
            label_padding=IGNORED,
        )

    def forward(self, encoded: EncoderOutput, batch: TaskBatch) -> HeadOutput:
        """Logits ``[B, W, labels]`` for the ``W`` words of each row (padding words included).

        Word positions count from a row's first real token, so they hold for tokenizers that pad
        on the left too.
        """
        first_real = encoded.mask.long().argmax(dim=1, keepdim=True)  # 0 with right padding
        starts = batch.extras["word_starts"].clamp(min=0) + first_real
        index = starts.unsqueeze(-1).expand(-1, -1, encoded.hidden.size(-1))
        states = torch.gather(encoded.hidden, 1, index)
        return HeadOutput(logits=self.classifier(self.dropout(states)))

    def export_scores(self, encoded: EncoderOutput, batch: TaskBatch) -> torch.Tensor:
        """Logits ``[B, T, labels]`` of every token: the runtime reads each word's first sub-word."""
        logits: torch.Tensor = self.classifier(self.dropout(encoded.hidden))  # forward()'s, before its gather
        return logits

    def export_decoding(self) -> dict[str, Any]:
        """Words to sub-word windows (``overlap``), each word's label from its first sub-word."""
        return {"kind": "tagging", "overlap": self.overlap}

    def export_hf(self) -> HuggingFaceHead:
        """``...ForTokenClassification``: each word takes the label of its first sub-word."""
        return HuggingFaceHead(
            kind="token",
            layers=linear_layers(self.classifier),
            labels=self.labels,
            settings={"word_label": "first_subword", "overlap": self.overlap},
        )

    def predict(self, output: HeadOutput) -> torch.Tensor:
        """The best label id of each word ``[B, W]``."""
        return output.logits.argmax(dim=-1)

    def probabilities(self, output: HeadOutput) -> torch.Tensor:
        """Softmax over the labels of each word ``[B, W, labels]``, in float32."""
        return torch.softmax(output.logits.float(), dim=-1)

    def divergence(self, a: HeadOutput, b: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """Symmetric KL between the two label distributions of every real word, averaged over the words."""
        words = batch.extras["word_starts"] >= 0
        return symmetric_kl(a.logits, b.logits, mask=words)

    soft_targets = "softmax"
    soft_positions = "word"

    def teacher_scores(self, output: HeadOutput, batch: TaskBatch) -> list[torch.Tensor]:
        """The logits ``[words, labels]`` of each row's real words, float32 on the CPU."""
        logits = output.logits.detach().float().cpu()
        counts = (batch.extras["word_starts"] >= 0).sum(dim=1).tolist()
        return [row[:count] for row, count in zip(logits, counts, strict=True)]

    def teacher_rows(
        self, data: TaskData, scores: Sequence[torch.Tensor]
    ) -> tuple[list[str], list[torch.Tensor]]:
        """One row per example, ``[words, labels]``: each word's logits from the window that owns it.

        Stored per word, a student with another tokenizer or other windows (the BiLSTM over the
        same words) learns from them too.
        """
        if data.extras is None:
            raise ValueError("tagging data without word positions; featurize it with the tagging head")
        merged = [torch.zeros(len(example.words or ()), len(self.labels)) for example in data.examples]
        for row, row_scores in enumerate(scores):
            extra, sentence = data.extras[row], merged[data.owner(row)]
            first = extra["first_word"][0]
            for offset, owned in enumerate(extra["owned"]):
                if owned:
                    sentence[first + offset] = row_scores[offset]
        return [example.id for example in data.examples], merged

    def target_ids(self, row_ids: Sequence[str]) -> list[str]:
        """A window's targets are its example's: the row id without its ``#window``."""
        return [row.rsplit("#", 1)[0] for row in row_ids]

    def teacher_batch(self, rows: Sequence[torch.Tensor], batch: TaskBatch) -> torch.Tensor:
        """Each window's words cut from its example's row, ``[B, W, labels]`` (padding words zero).

        Raises:
            DataError: An example's row has fewer words than its windows reach (other data).
        """
        starts = batch.extras["word_starts"]
        first, counts = batch.extras["first_word"][:, 0].tolist(), (starts >= 0).sum(dim=1).tolist()
        teacher = torch.zeros(len(rows), starts.shape[1], len(self.labels))
        for number, (row, start, count) in enumerate(zip(rows, first, counts, strict=True)):
            if start + count > row.shape[0]:
                raise DataError(
                    f"row {batch.ids[number]!r} reaches word {start + count} and its soft targets have "
                    f"{row.shape[0]} words: the targets come from other data"
                )
            teacher[number, :count] = row[start : start + count]
        return teacher

    def soft_loss(
        self, output: HeadOutput, teacher: torch.Tensor, batch: TaskBatch, *, temperature: float = 1.0
    ) -> torch.Tensor:
        """``KL(teacher || student)`` of each real word's label distribution, averaged over the words."""
        words = (batch.extras["word_starts"] >= 0).to(output.logits.device)
        return teacher_kl(
            output.logits, teacher.to(output.logits.device), temperature=temperature, mask=words
        )

    def logit_distance(self, output: HeadOutput, teacher: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        """Mean squared difference of the real words' logits."""
        words = (batch.extras["word_starts"] >= 0).to(output.logits.device).unsqueeze(-1)
        return squared_error(output.logits, teacher.to(output.logits.device), mask=words)

    def row_scores(self, output: HeadOutput, batch: TaskBatch) -> list[torch.Tensor]:
        """Log-probabilities ``[words, labels]`` of each row's real words."""
        scores = torch.log_softmax(output.logits.float(), dim=-1).cpu()
        counts = (batch.extras["word_starts"] >= 0).sum(dim=1).tolist()
        return [row[:count] for row, count in zip(scores, counts, strict=True)]

    def decode(self, data: TaskData, scores: Sequence[torch.Tensor]) -> list[Any]:
        """One label per word of every example, each from the window that owns the word."""
        if data.extras is None:
            raise ValueError("tagging data without word positions; featurize it with the tagging head")
        tags: list[list[str]] = [[""] * len(example.words or ()) for example in data.examples]
        for row, row_scores in enumerate(scores):
            extra = data.extras[row]
            sentence = tags[data.owner(row)]
            best = row_scores.argmax(dim=-1).tolist()
            for offset, (owned, label) in enumerate(zip(extra["owned"], best, strict=True)):
                if owned:
                    sentence[extra["first_word"][0] + offset] = self.labels[label]
        return tags

    def record(self, prediction: Any, example: Example) -> dict[str, Any]:
        """``text``, its ``entities`` (``start``, ``end``, ``label``, ``text``), ``words`` and ``tags``.

        Entities are found only when the words occur in the text in order (as spaCy splits it).
        """
        return tagging_record(example.text_a, example.words or (), list(prediction))

    def write_predictions(self, stem: Path, examples: Sequence[Example], predictions: Sequence[Any]) -> Path:
        """``STEM.conll``: a ``word gold predicted`` line per word, a blank line after each sentence.

        The input of the classic ``conlleval`` script; unlabelled sentences get ``O`` as gold.
        """
        path = stem.with_name(stem.name + ".conll")
        with path.open("w", encoding="utf-8") as stream:
            for example, tags in zip(examples, predictions, strict=True):
                stream.write(_conll_lines(example, tags))
        return path


def _conll_lines(example: Example, tags: Sequence[str]) -> str:
    """``word gold predicted`` lines of one sentence and a blank line (gold ``O`` when unlabelled)."""
    gold = example.tags or ("O",) * len(tags)
    lines = [
        f"{word} {right} {guess}\n"
        for word, right, guess in zip(example.words or (), gold, tags, strict=True)
    ]
    return "".join(lines) + "\n"


def _check_example(example: Example, index: dict[str, int], source: str) -> None:
    """Refuse an example without words, with tags that do not match its words, or with unknown tags."""
    if not example.words:
        raise DataError(
            f"example {example.id!r} has no words; sequence labelling needs a word-level reader "
            "(e.g. 'iob' or 'conll')",
            file=source,
        )
    if example.tags is None:
        return
    if len(example.tags) != len(example.words):
        raise DataError(
            f"example {example.id!r} has {len(example.words)} words but {len(example.tags)} tags", file=source
        )
    for tag in example.tags:
        if tag not in index:
            raise DataError(
                f"example {example.id!r} has tag {tag!r}; the task's labels are {list(index)}", file=source
            )
