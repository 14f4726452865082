"""Predict with an exported model on onnxruntime alone: no PyTorch is imported.

An export directory (``mtdnn export --format onnx``) holds the graph, the tokenizer files and
``export.json`` (see :mod:`mtdnn.export.manifest`). :class:`ExportedModel` tokenizes with the
``tokenizers`` library, runs the graph with onnxruntime and decodes the scores as each head's
``export_decoding`` says, into the same predictions (and ``mtdnn predict`` records) as the run
directory gives.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from mtdnn.errors import ConfigurationError, DataError
from mtdnn.export.manifest import ExportedTask, ExportManifest, Tokenization, read_manifest
from mtdnn.portable.entities import tagging_record
from mtdnn.portable.records import label_record
from mtdnn.portable.spans import SpanWindow, decode_answers, span_record, span_windows
from mtdnn.portable.windows import WordWindow, assign_tokens, word_windows
from mtdnn.portable.words import spacy_words
from mtdnn.types import Example, LabelPrediction, SpanPrediction

__all__ = ["ExportedModel", "is_export", "pad_rows"]

Features = dict[str, list[int]]


def is_export(directory: Path) -> bool:
    """Whether ``directory`` is an export (it holds ``export.json``), not a run directory."""
    return (directory / ExportManifest.FILE).is_file()


class ExportedModel:
    """An exported model, ready to predict raw inputs of its tasks.

    Args:
        directory: The export directory.
        threads: Intra-op threads of onnxruntime; ``None`` lets it choose (all cores).
        providers: onnxruntime execution providers, in order of preference; by default the CPU.
        graph: Another graph file in the directory to run (e.g. the fp32 graph beside an int8
            one); by default the manifest's.

    Raises:
        ConfigurationError: onnxruntime or tokenizers is missing, or the directory is not a
            readable export.
    """

    def __init__(
        self,
        directory: Path,
        *,
        threads: int | None = None,
        providers: Sequence[str] = ("CPUExecutionProvider",),
        graph: str | None = None,
    ) -> None:
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ConfigurationError(
                f"predicting with an export needs onnxruntime and tokenizers ({exc.name} is missing)",
                hint="pip install 'mtdnn[onnx]'",
            ) from exc
        self.directory = directory
        self.manifest = read_manifest(directory)
        options = onnxruntime.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        path = directory / (graph or self.manifest.graph)
        if not path.is_file():
            raise ConfigurationError(f"the export {str(directory)!r} has no graph {path.name!r}")
        self.session = onnxruntime.InferenceSession(str(path), options, providers=list(providers))
        self.input_names = [node.name for node in self.session.get_inputs()]
        tokenization = self.manifest.tokenization
        self.tokenizer = Tokenizer.from_file(str(directory / tokenization.file))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.tokenization = tokenization

    @property
    def tasks(self) -> dict[str, ExportedTask]:
        """The exported tasks by name."""
        return self.manifest.tasks

    def task(self, name: str) -> ExportedTask:
        """One exported task.

        Raises:
            ConfigurationError: The export has no such task.
        """
        if name not in self.manifest.tasks:
            raise ConfigurationError(
                f"the export has no task {name!r}", hint=f"tasks: {', '.join(sorted(self.manifest.tasks))}"
            )
        return self.manifest.tasks[name]

    def predict(
        self, task: str, examples: Sequence[Example], *, words: str = "blank:en", batch_size: int = 32
    ) -> list[dict[str, Any]]:
        """``mtdnn predict``'s record of each example: its ``id`` and what the head's record holds.

        Args:
            task: The task whose head predicts.
            examples: Raw inputs (sequence labelling: the text is split into words with spaCy
                where ``words`` is not set, see :func:`mtdnn.portable.words.spacy_words`).
            words: How raw text is split into words for sequence labelling.
            batch_size: Rows per run of the graph.
        """
        spec = self.task(task)
        if spec.decoding["kind"] == "tagging":
            examples = _with_words(examples, words)
        predictions = self.predictions(task, examples, batch_size=batch_size)
        return [
            {"id": example.id, **self.record(spec, prediction, example)}
            for example, prediction in zip(examples, predictions, strict=True)
        ]

    def predictions(self, task: str, examples: Sequence[Example], *, batch_size: int = 32) -> list[Any]:
        """One prediction per example, as the head's ``decode`` gives it in PyTorch.

        A :class:`~mtdnn.types.LabelPrediction` for label heads, the tags of the words for
        sequence labelling (``Example.words`` must be set).
        """
        spec = self.task(task)
        if not examples:
            return []
        kind = spec.decoding["kind"]
        if kind == "label":
            rows = self.featurize_pairs(examples, max_length=spec.max_length)
            scores = self.scores(spec, rows, batch_size=batch_size)
            return _decode_labels(spec, examples, scores)
        if kind == "tagging":
            return self._tag(spec, examples, batch_size=batch_size)
        if kind == "span":
            return self._answer(spec, examples, batch_size=batch_size)
        raise ConfigurationError(f"task {spec.name!r}: this runtime cannot decode {kind!r} scores")

    def record(self, spec: ExportedTask, prediction: Any, example: Example) -> dict[str, Any]:
        """One prediction as the head's ``record`` writes it."""
        if isinstance(prediction, LabelPrediction):
            return label_record(prediction.value, prediction.probabilities, spec.labels)
        if isinstance(prediction, SpanPrediction):
            return span_record(prediction)
        return tagging_record(example.text_a, example.words or (), prediction)

    def featurize_pairs(self, examples: Sequence[Example], *, max_length: int) -> list[Features]:
        """Tokenize texts and pairs as the encoder does in training (pairs truncated longest-first)."""
        tokenization = self.tokenization
        self.tokenizer.enable_truncation(
            max_length, strategy="longest_first", direction=tokenization.truncation_side
        )
        try:
            inputs: list[Any] = [
                example.text_a if example.text_b is None else (example.text_a, example.text_b)
                for example in examples
            ]
            encoded = self.tokenizer.encode_batch(inputs)
        finally:
            self.tokenizer.no_truncation()
        rows = []
        for encoding in encoded:
            row = {"input_ids": list(encoding.ids), "attention_mask": list(encoding.attention_mask)}
            if tokenization.has_types:
                row["token_type_ids"] = list(encoding.type_ids)
            rows.append(row)
        return rows

    def scores(
        self, spec: ExportedTask, rows: Sequence[Features], *, batch_size: int = 32
    ) -> list[np.ndarray]:
        """The graph's output for ``spec`` of each row, in row order (float32, padding positions cut).

        Rows are run in batches of similar length; a token-level output keeps a row's real
        tokens only, counted from its first real token.
        """
        order = sorted(range(len(rows)), key=lambda row: len(rows[row]["input_ids"]))
        result: list[np.ndarray] = [np.empty(0, dtype=np.float32)] * len(rows)
        for start in range(0, len(order), batch_size):
            indices = order[start : start + batch_size]
            batch, pads = pad_rows([rows[row] for row in indices], self.input_names, self.tokenization)
            (output,) = self.session.run([spec.output], batch)
            for position, row in enumerate(indices):
                scores = np.asarray(output[position], dtype=np.float32)
                if scores.ndim == 2:  # [T, C]: the row's own tokens
                    left = pads[position] if self.tokenization.padding_side == "left" else 0
                    scores = scores[left : left + len(rows[row]["input_ids"])]
                result[row] = scores
        return result

    def _tag(self, spec: ExportedTask, examples: Sequence[Example], *, batch_size: int) -> list[list[str]]:
        """Cut sentences into windows of whole words (as the tagging head does) and tag every word."""
        labels = spec.labels or []
        layout = self.tokenization.layouts[False]
        specials = len(layout.build([])[0]["input_ids"])
        overlap = spec.decoding.get("overlap")
        rows: list[Features] = []
        owners: list[tuple[int, WordWindow, list[int]]] = []  # example, window, word starts
        for number, pieces in enumerate(self._word_pieces(examples)):
            for window in word_windows(
                pieces, max_length=spec.max_length, specials=specials, overlap=overlap
            ):
                row, offset, _ = layout.build(window.ids)
                rows.append(row)
                owners.append((number, window, window.starts(offset)))
        tags = [[""] * len(example.words or ()) for example in examples]
        scores_of_rows = self.scores(spec, rows, batch_size=batch_size)
        for (number, window, starts), scores in zip(owners, scores_of_rows, strict=True):
            for word, (owned, start) in enumerate(zip(window.owned, starts, strict=True)):
                if owned:
                    tags[number][window.first + word] = labels[int(scores[start].argmax())]
        return tags

    def _answer(
        self, spec: ExportedTask, examples: Sequence[Example], *, batch_size: int
    ) -> list[SpanPrediction]:
        """Cut each context into windows with its question (as the span head does) and answer it.

        Raises:
            DataError: An example has no context or an empty question.
        """
        settings = dict(spec.decoding)
        longest = int(settings.pop("max_question_length"))
        stride = int(settings.pop("doc_stride"))
        settings.pop("kind")
        layout = self.tokenization.layouts[True]
        for example in examples:
            if example.text_b is None:
                raise DataError(f"example {example.id!r} has no context: give the question and its context")
        texts = [example.text_a for example in examples]
        questions = self.tokenizer.encode_batch(texts, add_special_tokens=False)
        distinct = list(dict.fromkeys(example.text_b or "" for example in examples))
        encoded = self.tokenizer.encode_batch(distinct, add_special_tokens=False)
        contexts = dict(zip(distinct, encoded, strict=True))
        windows: list[tuple[int, SpanWindow]] = []
        for number, (example, question) in enumerate(zip(examples, questions, strict=True)):
            ids = list(question.ids)[:longest]
            if not ids:
                raise DataError(f"example {example.id!r} has an empty question")
            context = contexts[example.text_b or ""]
            cut = span_windows(
                ids,
                context.ids,
                context.offsets,
                max_length=spec.max_length,
                stride=stride,
                build=layout.build,
            )
            windows += [(number, window) for window in cut]
        scores = self.scores(spec, [window.features for _, window in windows], batch_size=batch_size)
        rows = (
            (number, row_scores, window.char_start, window.char_end, window.owned)
            for (number, window), row_scores in zip(windows, scores, strict=True)
        )
        return decode_answers([example.text_b or "" for example in examples], rows, **settings)

    def _word_pieces(self, examples: Sequence[Example]) -> Iterator[list[list[int]]]:
        texts = [" ".join(example.words or ()) for example in examples]
        encoded = self.tokenizer.encode_batch(texts, add_special_tokens=False)
        for example, text, encoding in zip(examples, texts, encoded, strict=True):
            yield assign_tokens(
                example.words or (), text, encoding.ids, encoding.offsets, self.tokenization.unknown_id
            )


def pad_rows(
    rows: Sequence[Features], names: Sequence[str], tokenization: Tokenization
) -> tuple[dict[str, np.ndarray], list[int]]:
    """Pad rows to the longest on the tokenizer's padding side: ``[B, T]`` int64 arrays of ``names``.

    A row without token types gets zeros. Also returns each row's padding length.
    """
    longest = max(len(row["input_ids"]) for row in rows)
    left = tokenization.padding_side == "left"
    pads = [longest - len(row["input_ids"]) for row in rows]
    batch: dict[str, np.ndarray] = {}
    for name in names:
        value = tokenization.pad_id if name == "input_ids" else 0
        padded = []
        for row, pad in zip(rows, pads, strict=True):
            values = row.get(name) or [0] * len(row["input_ids"])
            padded.append([value] * pad + values if left else values + [value] * pad)
        batch[name] = np.asarray(padded, dtype=np.int64)
    return batch, pads


def _with_words(examples: Sequence[Example], pipeline: str) -> list[Example]:
    """Examples with their words: spaCy's split of the raw text where they have none."""
    missing = [example for example in examples if example.words is None]
    if not missing:
        return list(examples)
    split = iter(spacy_words([example.text_a for example in missing], pipeline))
    return [
        example if example.words is not None else replace(example, words=tuple(w for w, _ in next(split)))
        for example in examples
    ]


def _decode_labels(
    spec: ExportedTask, examples: Sequence[Example], scores: Sequence[np.ndarray]
) -> list[Any]:
    """Label predictions from each example's scores ``[C]``, as the head's ``decode`` makes them."""
    decoding = spec.decoding
    logits = np.stack(list(scores)).astype(np.float32)
    kind = decoding["scores"]
    if kind == "softmax":
        shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
        probabilities = shifted / shifted.sum(axis=-1, keepdims=True)
    elif kind == "sigmoid":
        probabilities = 1.0 / (1.0 + np.exp(-logits))
    elif kind == "value":
        probabilities = logits.reshape(-1, 1)
    elif kind == "group_softmax":
        probabilities = _group_probabilities(logits.reshape(-1), examples, int(decoding["positive"]))
    else:
        raise ConfigurationError(f"task {spec.name!r}: unknown score kind {kind!r} in the export")
    choose = decoding["choose"]
    values: list[int | float | tuple[int, ...]]
    if choose == "argmax":
        values = [int(row.argmax()) for row in probabilities]
    elif choose == "threshold":
        threshold = float(decoding["threshold"])
        values = [tuple(int(i) for i in np.flatnonzero(row > threshold)) for row in probabilities]
    elif choose == "value":
        values = [float(row[0]) for row in probabilities]
    elif choose == "group_top":
        values = _group_top(probabilities, examples, int(decoding["positive"]))
    else:
        raise ConfigurationError(f"task {spec.name!r}: unknown choice {choose!r} in the export")
    return [
        LabelPrediction(value=value, probabilities=tuple(float(p) for p in row))
        for value, row in zip(values, probabilities, strict=True)
    ]


def _groups(examples: Sequence[Example]) -> list[list[int]]:
    """The rows of each group, in order of first appearance; an example without a group is alone."""
    groups: dict[object, list[int]] = {}
    for row, example in enumerate(examples):
        groups.setdefault(example.group if example.group is not None else ("row", row), []).append(row)
    return list(groups.values())


def _group_probabilities(scores: np.ndarray, examples: Sequence[Example], positive: int) -> np.ndarray:
    """``[N, 2]`` in label-id order: ``positive`` holds the softmax of the scores over the group."""
    relevant = np.zeros_like(scores)
    for rows in _groups(examples):
        group = scores[rows]
        shifted = np.exp(group - group.max())
        relevant[rows] = shifted / shifted.sum()
    columns = [relevant, 1.0 - relevant]
    return np.stack(columns if positive == 0 else columns[::-1], axis=-1)


def _group_top(
    probabilities: np.ndarray, examples: Sequence[Example], positive: int
) -> list[int | float | tuple[int, ...]]:
    """``positive`` for the most probable candidate of each group (the first on ties), else the other id."""
    values: list[int | float | tuple[int, ...]] = [1 - positive] * len(examples)
    for rows in _groups(examples):
        relevant = probabilities[rows, positive]
        values[rows[int(relevant.argmax())]] = positive
    return values
