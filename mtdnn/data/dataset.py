"""A task's examples, tokenized once and kept in memory with their label ids."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import EllipsisType

from tqdm.auto import tqdm

from mtdnn.encoders.base import Encoder, Features
from mtdnn.errors import DataError
from mtdnn.readers.base import Reader
from mtdnn.types import Example

__all__ = [
    "Target",
    "all_labelled",
    "TaskData",
    "featurize_examples",
    "group_ids",
    "label_ids",
    "load_task_data",
    "read_examples",
]

logger = logging.getLogger(__name__)

_CHUNK = 4096

Target = int | float | tuple[float, ...] | tuple[int, ...]
"""One row's target: a label id, a real value, a multi-hot vector (multi-label tasks), or a sequence of
label ids (token-level tasks, see :attr:`TaskData.label_padding`)."""


@dataclass(frozen=True)
class TaskData:
    """The examples of one file of one task, with their features (rows) and targets.

    Most tasks have one row per example. Token-level tasks may cut a long example into several
    overlapping windows, each a row: ``owners`` then says which example each row belongs to, and
    the task's head merges the rows' predictions back into one per example.

    Args:
        task: The task's name.
        examples: The examples as read.
        features: The encoder's features, one per row.
        targets: One per row: label ids (classification), float targets (regression), multi-hot
            vectors (multi-label) or sequences of label ids (token-level tasks); ``None`` when
            unlabelled.
        owners: The index in ``examples`` of each row's example; ``None`` when row ``i`` is
            example ``i``.
        extras: Per-row integer sequences a head needs besides the encoder inputs (e.g. the
            input position of each word's first sub-word); batched into
            :attr:`TaskBatch.extras`, padded with -1.
        label_padding: When set, targets are sequences of label ids of varying length, padded
            with this value in a batch (token-level tasks).
    """

    task: str
    examples: tuple[Example, ...]
    features: tuple[Features, ...]
    targets: tuple[Target, ...] | None
    owners: tuple[int, ...] | None = None
    extras: tuple[Features, ...] | None = None
    label_padding: int | None = None

    def __len__(self) -> int:
        """The number of rows (training and batching work on rows)."""
        return len(self.features)

    def owner(self, row: int) -> int:
        """The index of the example that row ``row`` belongs to."""
        return row if self.owners is None else self.owners[row]

    def row_id(self, row: int) -> str:
        """A stable id of row ``row``: its example's id, with ``#window`` when an example has several rows."""
        example = self.examples[self.owner(row)].id
        if self.owners is None:
            return example
        first = self._first_rows[self.owner(row)]
        return f"{example}#{row - first}"

    @cached_property
    def _first_rows(self) -> dict[int, int]:
        first: dict[int, int] = {}
        for row in range(len(self.features)):
            first.setdefault(self.owner(row), row)
        return first

    @property
    def lengths(self) -> list[int]:
        """Token length of each example (for length-bucketed batching)."""
        return [len(feature["input_ids"]) for feature in self.features]

    @cached_property
    def groups(self) -> list[int] | None:
        """Group id of each row (its example's, see :func:`group_ids`), or ``None`` without groups."""
        groups = group_ids(self.examples)
        if groups is None or self.owners is None:
            return groups
        return [groups[owner] for owner in self.owners]


def group_ids(examples: Sequence[Example]) -> list[int] | None:
    """Give each example its group's integer id; ``None`` if no example has a group.

    Ids are distinct per group and increase in order of first appearance; an example without
    a group gets a group of its own.
    """
    if all(example.group is None for example in examples):
        return None
    index: dict[str, int] = {}
    ids: list[int] = []
    for example in examples:
        if example.group is None:
            ids.append(len(index) + len(ids))  # unique: larger than any id handed out so far
            continue
        ids.append(index.setdefault(example.group, len(index) + len(ids)))
    return ids


def all_labelled(examples: Sequence[Example], field: str, *, source: str) -> bool:
    """Whether every example has ``field`` (``label``, ``tags``, ``answers``) set; ``False`` if none has.

    Raises:
        DataError: Some examples have it and others not (the first without it is named).
    """
    present = [getattr(example, field) is not None for example in examples]
    if any(present) and not all(present):
        missing = next(example.id for example, there in zip(examples, present, strict=True) if not there)
        raise DataError(f"example {missing!r} has no {field} while others do", file=source)
    return all(present) and bool(present)


def label_ids(
    examples: Sequence[Example], labels: Sequence[str] | None, *, source: str
) -> tuple[Target, ...] | None:
    """Map gold labels to ids, floats (real-valued tasks) or multi-hot vectors; ``None`` if none is labelled.

    When any label is a list (a multi-label task), every label becomes a multi-hot float vector
    over ``labels`` (a plain string counts as a one-element list).

    Raises:
        DataError: Some examples are labelled and others not, or a label is not in ``labels``.
    """
    if not all_labelled(examples, "label", source=source):
        return None
    if labels is None:
        return tuple(_real_value(example, source) for example in examples)
    index = {label: i for i, label in enumerate(labels)}

    def label_id(example: Example, label: object) -> int:
        if str(label) not in index:
            raise DataError(
                f"example {example.id!r} has label {label!r}; the task's labels are {list(labels)}",
                file=source,
            )
        return index[str(label)]

    if any(isinstance(example.label, list) for example in examples):
        vectors: list[Target] = []
        for example in examples:
            names = example.label if isinstance(example.label, list) else [example.label]
            hot = [0.0] * len(labels)
            for name in names:
                hot[label_id(example, name)] = 1.0
            vectors.append(tuple(hot))
        return tuple(vectors)
    return tuple(label_id(example, example.label) for example in examples)


def _real_value(example: Example, source: str) -> float:
    """A real-valued task's target; a label that is not a number means the task lacks a label set."""
    try:
        return float(example.label)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DataError(
            f"example {example.id!r} has the label {example.label!r}, but the task has no label set, so "
            "its labels must be numbers (a regression task); list the labels in the task's 'labels' "
            "or read the file with a reader that knows them",
            file=source,
        ) from None


def read_examples(reader: Reader, path: str | Path, *, limit: int | None = None) -> Iterator[Example]:
    """Yield the first ``limit`` examples of ``path`` (all of them when ``limit`` is ``None``).

    Raises:
        DataError: The file is missing or malformed.
    """
    if not Path(path).is_file():
        raise DataError("no such file", file=str(path))
    yield from itertools.islice(reader.read(path), limit)


def load_task_data(
    task: str,
    reader: Reader,
    path: str | Path,
    encoder: Encoder,
    *,
    max_length: int,
    limit: int | None = None,
    labels: Sequence[str] | EllipsisType | None = ...,
) -> TaskData:
    """Read ``path`` with ``reader`` and featurize it with ``encoder``.

    Args:
        task: The task's name.
        reader: The task's reader.
        path: The data file.
        encoder: Supplies the featurization.
        max_length: Longest token sequence kept (longer inputs are truncated).
        limit: Read only the first ``limit`` examples.
        labels: The label vocabulary that maps labels to ids (``None``: real-valued targets);
            by default the reader's.
    """
    examples = list(read_examples(reader, path, limit=limit))
    vocabulary = reader.labels if labels is Ellipsis else labels
    return featurize_examples(
        task, examples, encoder, max_length=max_length, labels=vocabulary, source=str(path)
    )


def featurize_examples(
    task: str,
    examples: list[Example],
    encoder: Encoder,
    *,
    max_length: int,
    labels: Sequence[str] | None,
    source: str,
) -> TaskData:
    """Featurize examples already read (with a progress bar on long inputs) and map their labels.

    Args:
        task: The task's name.
        examples: The examples, in order.
        encoder: Supplies the featurization.
        max_length: Longest token sequence kept.
        labels: The label vocabulary (``None``: real-valued targets or unlabelled).
        source: Where the examples came from, for messages.

    Raises:
        DataError: There are no examples, or a label is not in ``labels``.
    """
    if not examples:
        raise DataError("the file holds no examples", file=source)
    targets = label_ids(examples, labels, source=source)
    features: list[Features] = []
    chunks = range(0, len(examples), _CHUNK)
    progress = tqdm(chunks, desc=f"tokenizing {task}", unit="chunk", disable=len(chunks) < 4, leave=False)
    for start in progress:
        features.extend(encoder.featurize(examples[start : start + _CHUNK], max_length=max_length))
    logger.info("%s: %d examples from %s", task, len(examples), source)
    return TaskData(task=task, examples=tuple(examples), features=tuple(features), targets=targets)
