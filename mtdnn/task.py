"""A task: its data files, reader, head, loss, metrics and batching settings."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mtdnn.config import build
from mtdnn.config.checks import check_number
from mtdnn.data import TaskData, featurize_examples, read_examples
from mtdnn.encoders.base import Encoder
from mtdnn.errors import ConfigurationError
from mtdnn.heads.base import Head, LabelHead
from mtdnn.losses.base import Loss
from mtdnn.metrics.base import DecodedMetric, Metric
from mtdnn.readers.base import Reader
from mtdnn.registry import Registry
from mtdnn.types import Example

__all__ = ["Task", "TaskSettings", "build_head", "build_task", "build_task_settings", "training_texts"]


class TaskSettings:
    """Everything a task's config says (the head is built afterwards, with run-time facts).

    Args:
        reader: Reads the task's files.
        head: The head's config (``{type: 'classification', ...}``); it receives ``input_dim``,
            ``num_labels`` and ``task`` at run time, so the config never states them.
        loss: The training objective.
        metrics: Evaluation metrics; the first key of the first metric is the task's main score.
        train: Training file (``None`` for an evaluation-only task).
        dev: Development file, evaluated after every epoch.
        test: Test file (scored by ``mtdnn evaluate --split test``).
        batch_size: Training examples per mini-batch.
        eval_batch_size: Examples per batch at evaluation.
        max_length: Longest token sequence; longer inputs are truncated.
        loss_weight: Multiplies this task's loss.
        train_limit: Use only the first N training examples.
        labels: The label vocabulary in id order, replacing the reader's (to fix an order or
            name the labels of a reader that has none); every gold label must be in it.
        train_reader: Reads the training file instead of ``reader`` (dev and test files still use
            ``reader``): e.g. a ``subsample`` or ``swap_pairs`` wrapper around the same reader, so
            that evaluation stays on the full, unchanged dev set. Its labels must equal ``reader``'s.
        texts_from: Train on the texts of these other tasks' training files instead of a
            ``train`` file: each ``text_a`` and ``text_b`` becomes one unlabelled example, read as
            those tasks read them (reader, ``train_reader``, ``train_limit``). This makes a
            masked-LM task an auxiliary task over the other tasks' text.
    """

    def __init__(
        self,
        reader: Reader,
        head: dict[str, Any] | str,
        *,
        loss: Loss,
        metrics: list[Metric],
        train: str | None = None,
        dev: str | None = None,
        test: str | None = None,
        batch_size: int = 32,
        eval_batch_size: int = 64,
        max_length: int = 128,
        loss_weight: float = 1.0,
        train_limit: int | None = None,
        labels: list[str] | None = None,
        train_reader: Reader | None = None,
        texts_from: list[str] | None = None,
    ) -> None:
        for key, value in (
            ("batch_size", batch_size),
            ("eval_batch_size", eval_batch_size),
            ("max_length", max_length),
        ):
            if value < 1:
                raise ConfigurationError(f"{key} must be at least 1, got {value}", path=key)
        if max_length < 8:
            raise ConfigurationError(f"max_length {max_length} leaves no room for text", path="max_length")
        if train_limit is not None and train_limit < 1:
            raise ConfigurationError(f"train_limit must be at least 1, got {train_limit}", path="train_limit")
        if not metrics:
            raise ConfigurationError(
                "a task needs at least one metric", path="metrics", hint="e.g. metrics: [{type: 'accuracy'}]"
            )
        self.reader = reader
        self.head = head
        self.loss = loss
        self.metrics = metrics
        self.train = train
        self.dev = dev
        self.test = test
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.max_length = max_length
        check_number(loss_weight, path="loss_weight", at_least=0, hint="1 weighs the task like the others")
        self.loss_weight = loss_weight
        self.train_limit = train_limit
        self.train_reader = train_reader
        if texts_from is not None and (train is not None or not texts_from):
            raise ConfigurationError(
                "texts_from needs at least one task name and replaces the 'train' file",
                path="texts_from",
                hint="give either train: FILE or texts_from: ['task', ...]",
            )
        self.texts_from = texts_from
        if labels is not None and len(set(labels)) != len(labels):
            raise ConfigurationError(f"labels has duplicates: {labels}", path="labels")
        self.labels = labels
        if train_reader is not None and train_reader.labels != reader.labels:
            raise ConfigurationError(
                f"train_reader has labels {train_reader.labels}, reader has {reader.labels}",
                path="train_reader",
                hint="wrap the task's reader, e.g. {type: 'subsample', reader: ..., fraction: 0.1}",
            )

    def collect_labels(self) -> None:
        """Let a reader whose labels come from the data (``columns``) collect them from the training file.

        Nothing happens when the task or its reader already gives labels, or without a training
        file. Building an experiment calls this for every task.

        Raises:
            DataError: The training file is missing or malformed.
        """
        if self.labels is not None or self.reader.labels is not None or self.train is None:
            return
        if self.reader.collect_labels(self.train) is not None and self.train_reader is not None:
            self.train_reader.collect_labels(self.train)

    def has(self, split: str) -> bool:
        """Whether the task has data for ``split`` (a file, or for training also ``texts_from``)."""
        return self.file(split) is not None or (split == "train" and self.texts_from is not None)

    def reader_for(self, split: str) -> Reader:
        """The reader of ``split``: ``train_reader`` for the training file if set, else ``reader``."""
        if split == "train" and self.train_reader is not None:
            return self.train_reader
        return self.reader

    def file(self, split: str) -> str | None:
        """The configured file of ``split`` (``train``, ``dev`` or ``test``), if any."""
        if split not in ("train", "dev", "test"):
            raise ValueError(f"unknown split {split!r}; splits: train, dev, test")
        value: str | None = getattr(self, split)
        return value


class Task:
    """A named task with its settings, label vocabulary and head."""

    def __init__(
        self,
        name: str,
        settings: TaskSettings,
        head: Head,
        *,
        text_sources: Mapping[str, TaskSettings] | None = None,
    ) -> None:
        if settings.texts_from is not None and text_sources is None:
            raise ConfigurationError(
                f"task {name!r} trains on the texts of {settings.texts_from}, but no tasks were given"
            )
        self.name = name
        self.settings = settings
        self.head = head
        self.text_sources = text_sources
        for index, metric in enumerate(settings.metrics):
            if not head.accepts(metric):
                decoded = isinstance(metric, DecodedMetric)
                kind = "decoded predictions (tags, answers)" if decoded else "label ids or values"
                raise ConfigurationError(
                    f"metric {type(metric).__name__} scores {kind}, which the {type(head).__name__} "
                    "head does not produce",
                    path=f"tasks.{name}.metrics.{index}",
                    hint="use a label metric such as 'accuracy' or 'f1'"
                    if decoded
                    else "sequence labelling takes 'seqeval', extractive QA 'squad', masked-LM 'masked_lm'",
                )
            metric.bind_labels(self.labels)

    @property
    def labels(self) -> list[str] | None:
        """Label vocabulary in id order (the config's ``labels``, else the reader's), or ``None``."""
        if self.settings.labels is not None:
            return self.settings.labels
        return self.settings.reader.labels

    def load(
        self, split: str, encoder: Encoder, *, path: Path | None = None, limit: int | None = None
    ) -> TaskData:
        """Read and featurize this task's ``split`` file (or ``path`` in that split's format).

        Training data honours ``train_limit`` and ``train_reader``; labels map to ids by
        :attr:`labels`.

        Raises:
            ConfigurationError: No file is configured for ``split`` and no ``path`` is given.
            DataError: The file is missing or malformed.
        """
        cap = self.settings.train_limit if split == "train" else None
        if limit is not None:
            cap = limit if cap is None else min(cap, limit)
        if split == "train" and path is None and self.text_sources is not None:
            texts = itertools.islice(training_texts(self.text_sources), cap)
            examples = [Example(id=f"{self.name}:{i}", text_a=text) for i, text in enumerate(texts)]
            source = "the training texts of " + ", ".join(self.text_sources)
            return featurize_examples(
                self.name, examples, encoder, max_length=self.settings.max_length, labels=None, source=source
            )
        file = path if path is not None else self.path(split)
        examples = list(read_examples(self.settings.reader_for(split), file, limit=cap))
        return self.featurize(examples, encoder, source=str(file))

    def featurize(self, examples: list[Example], encoder: Encoder, *, source: str) -> TaskData:
        """Featurize examples read elsewhere (e.g. raw text to predict) as this task's head needs them.

        Raises:
            DataError: There are no examples, or a label is not in :attr:`labels`.
        """
        return self.head.featurize(
            self.name,
            examples,
            encoder,
            max_length=self.settings.max_length,
            labels=self.labels,
            source=source,
        )

    def path(self, split: str) -> Path:
        """The file of ``split`` (``train``, ``dev`` or ``test``).

        Raises:
            ConfigurationError: The config gives no file for that split.
        """
        value = self.settings.file(split)
        if value is None:
            raise ConfigurationError(f"no {split!r} file is configured", path=f"tasks.{self.name}.{split}")
        return Path(value)


def build_task(registry: Registry, name: str, params: Any, encoder: Encoder) -> Task:
    """Build a task from its config: its settings first, then the head with run-time facts.

    The same as :func:`build_task_settings` followed by :func:`build_head`.
    """
    settings = build_task_settings(registry, name, params)
    return Task(name, settings, build_head(registry, name, settings, encoder))


def build_task_settings(registry: Registry, name: str, params: Any) -> TaskSettings:
    """Build everything a task's config says except its head (which needs the encoder).

    A reader that collects its labels from the data reads them here (:meth:`TaskSettings.collect_labels`).

    Raises:
        ConfigurationError: ``params`` is not an object, or does not fit :class:`TaskSettings`.
        DataError: The training file a reader collects its labels from is missing or malformed.
    """
    path = f"tasks.{name}"
    if not isinstance(params, dict):
        raise ConfigurationError(f"a task must be an object, got {type(params).__name__}", path=path)
    settings: TaskSettings = build(registry, TaskSettings, params, path=path)
    settings.collect_labels()
    return settings


def build_head(registry: Registry, name: str, settings: TaskSettings, encoder: Encoder) -> Head:
    """Build a task's head from its settings, with the run-time facts it declares.

    The head receives ``input_dim`` (the encoder's output size), ``num_labels`` (the reader's
    label count, 1 for real-valued tasks), ``labels`` (the label vocabulary in id order, ``None``
    for real-valued tasks), ``task`` and ``encoder`` (the shared encoder, e.g. for tying a
    masked-LM head to its word embeddings) when its constructor declares them. A label head
    that does not take ``labels`` gets them afterwards, so its predictions name the labels.

    Raises:
        ConfigurationError: The task's ``max_length`` is longer than the encoder can encode.
    """
    limit = encoder.max_positions
    if limit is not None and settings.max_length > limit:
        raise ConfigurationError(
            f"max_length {settings.max_length} is longer than the encoder's {limit} positions",
            path=f"tasks.{name}.max_length",
            hint=f"use max_length {limit} or less; the tagging and span heads cut longer texts into windows",
        )
    labels = settings.labels if settings.labels is not None else settings.reader.labels
    head: Head = build(
        registry,
        Head,
        settings.head,
        path=f"tasks.{name}.head",
        input_dim=encoder.output_dim,
        num_labels=len(labels) if labels is not None else 1,
        labels=list(labels) if labels is not None else None,
        task=name,
        encoder=encoder,
    )
    if isinstance(head, LabelHead) and head.labels is None and labels is not None:
        head.labels = list(labels)  # predictions show label names, also from heads that take none
    return head


def training_texts(settings: Mapping[str, TaskSettings]) -> Iterator[str]:
    """Yield the texts (``text_a``, then ``text_b`` where set) of every task's training file.

    Each file is read with the task's training reader and up to its ``train_limit``, as training
    reads it; tasks without a training file are skipped. This is the ``corpus`` an encoder that
    builds a vocabulary receives.

    Raises:
        DataError: A training file is missing or malformed.
    """
    for task in settings.values():
        if task.train is None:
            continue
        for example in read_examples(task.reader_for("train"), task.train, limit=task.train_limit):
            yield example.text_a
            if example.text_b is not None:
                yield example.text_b
