"""Reader for the official GLUE benchmark TSV files (all nine tasks, labelled and test splits)."""

from __future__ import annotations

import difflib
import logging
import math
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from mtdnn.errors import ConfigurationError, DataError
from mtdnn.readers.base import Reader
from mtdnn.readers.files import text_lines
from mtdnn.types import Example

__all__ = ["GlueReader", "GlueTask"]

logger = logging.getLogger(__name__)

GlueTask = Literal["cola", "sst2", "mrpc", "qqp", "stsb", "mnli", "qnli", "rte", "wnli"]

_BINARY = ("0", "1")
_ENTAILMENT = ("entailment", "not_entailment")
_ID_COLUMNS = ("index", "id")


@dataclass(frozen=True)
class _Layout:
    """Where one task keeps its texts and its label, by header name.

    Args:
        text_a: Column of the first text.
        text_b: Column of the second text, ``None`` for single-sentence tasks.
        label: Column of the gold label (absent from test files).
        labels: Label vocabulary in index order, ``None`` for a real-valued score.
        implicit_header: Column names of files that have no header line (CoLA train/dev).
        scores: The range of a real-valued score, both ends included (STS-B: 0 to 5).
    """

    text_a: str
    text_b: str | None
    label: str
    labels: tuple[str, ...] | None
    implicit_header: tuple[str, ...] | None = None
    scores: tuple[float, float] | None = None


_LAYOUTS: Mapping[str, _Layout] = MappingProxyType(
    {
        "cola": _Layout("sentence", None, "label", _BINARY, ("source", "label", "original_mark", "sentence")),
        "sst2": _Layout("sentence", None, "label", _BINARY),
        "mrpc": _Layout("#1 String", "#2 String", "Quality", _BINARY),
        "qqp": _Layout("question1", "question2", "is_duplicate", _BINARY),
        "stsb": _Layout("sentence1", "sentence2", "score", None, scores=(0.0, 5.0)),
        "mnli": _Layout("sentence1", "sentence2", "gold_label", ("contradiction", "entailment", "neutral")),
        "qnli": _Layout("question", "sentence", "label", _ENTAILMENT),
        "rte": _Layout("sentence1", "sentence2", "label", _ENTAILMENT),
        "wnli": _Layout("sentence1", "sentence2", "label", _BINARY),
    }
)


@dataclass(frozen=True)
class _Columns:
    """Column positions resolved from one file's header."""

    width: int
    text_a: int
    text_b: int | None
    label: int | None
    id: int | None


class GlueReader(Reader):
    """Reads one GLUE task's official tab-separated files (train, dev or unlabelled test).

    Columns are found by header name (CoLA's header-less train/dev files use the fixed
    layout ``source, label, original_mark, sentence``). Fields are split on tabs only:
    quotes are ordinary characters. Text fields are stripped of surrounding whitespace.
    A file without the label column (a test split) yields examples whose label is
    ``None``. Each example id is the file stem joined by ``-`` to the row's ``index`` (or
    ``id``) column, or, where the file has neither, to the 1-based position of the row among
    the data rows (header excluded): ``dev-17``. Empty or whitespace-only lines are skipped.

    Args:
        task: The GLUE task whose layout and label vocabulary to use: ``cola``, ``sst2``,
            ``mrpc``, ``qqp``, ``stsb`` (regression: labels are floats), ``mnli``, ``qnli``,
            ``rte`` or ``wnli``.
    """

    def __init__(self, task: GlueTask) -> None:
        layout = _LAYOUTS.get(task)
        if layout is None:
            raise ConfigurationError(f"unknown GLUE task {task!r}", hint=_task_hint(str(task)))
        self.task = task
        self._layout = layout

    @property
    def pairs(self) -> bool | None:
        """Whether the task's layout has a second text (MRPC, RTE, ...; not SST-2, CoLA)."""
        return self._layout.text_b is not None

    @property
    def labels(self) -> list[str] | None:
        """The task's label vocabulary in index order, or ``None`` for STS-B's float scores."""
        return None if self._layout.labels is None else list(self._layout.labels)

    def read(self, path: str | Path) -> Iterator[Example]:
        """Yield the examples of one GLUE file in file order.

        Args:
            path: A GLUE ``.tsv`` file of this reader's task.

        Yields:
            One :class:`~mtdnn.types.Example` per non-empty data line.

        Raises:
            DataError: The file is empty, its header lacks a required column, a row has the
                wrong number of columns, a label is outside the vocabulary, a score is not a
                finite number or an id repeats; the message names the file and line.
        """
        path = Path(path)
        file = str(path)
        rows = _rows(text_lines(path))
        first = next(rows, None)
        if first is None:
            raise DataError("the file is empty (no header and no data lines)", file=file, line=1)
        line, fields = first
        implicit = self._layout.implicit_header
        if implicit is not None and self._layout.text_a not in _names(fields):
            columns = self._resolve(implicit, file, line)
            rows = _prepend(first, rows)
        else:
            columns = self._resolve(fields, file, line)
        count = yield from self._examples(rows, columns, path.stem, file)
        if count == 0:
            raise DataError("the file has a header but no data lines", file=file, line=line)
        logger.debug("read %d %s examples from %s", count, self.task, file)

    def _resolve(self, header: Sequence[str], file: str, line: int) -> _Columns:
        """Find the positions of the needed columns in a header, or fail naming the missing ones."""
        names = _names(header)
        layout = self._layout
        required = [layout.text_a] if layout.text_b is None else [layout.text_a, layout.text_b]
        twice = sorted({name for name in names if names.count(name) > 1 and name})
        if twice:
            raise DataError(
                f"the header names column(s) {twice} twice; which one holds the data is ambiguous",
                file=file,
                line=line,
            )
        missing = [name for name in required if name not in names]
        if missing:
            raise DataError(
                f"the {self.task} header lacks column(s) {missing}; found {names}. "
                f"Is this a GLUE {self.task} file?",
                file=file,
                line=line,
            )
        id_names = [name for name in _ID_COLUMNS if name in names]
        return _Columns(
            width=len(names),
            text_a=names.index(layout.text_a),
            text_b=None if layout.text_b is None else names.index(layout.text_b),
            label=names.index(layout.label) if layout.label in names else None,
            id=names.index(id_names[0]) if id_names else None,
        )

    def _examples(
        self, rows: Iterable[tuple[int, list[str]]], columns: _Columns, stem: str, file: str
    ) -> Generator[Example, None, int]:
        """Turn data rows into examples; returns (as the generator's value) how many it made."""
        seen: set[str] = set()
        count = 0
        for line, fields in rows:
            count += 1
            if len(fields) != columns.width:
                raise DataError(
                    f"expected {columns.width} tab-separated columns, found {len(fields)}",
                    file=file,
                    line=line,
                )
            key = str(count) if columns.id is None else fields[columns.id].strip()
            example_id = f"{stem}-{key}"
            if example_id in seen:
                raise DataError(f"duplicate example id {example_id!r}", file=file, line=line)
            seen.add(example_id)
            label = None if columns.label is None else self._label(fields[columns.label], file, line)
            yield Example(
                id=example_id,
                text_a=fields[columns.text_a].strip(),
                text_b=None if columns.text_b is None else fields[columns.text_b].strip(),
                label=label,
            )
        return count

    def _label(self, raw: str, file: str, line: int) -> str | float:
        """Check a label against the vocabulary, or parse a regression score."""
        value = raw.strip()
        vocabulary = self._layout.labels
        if vocabulary is not None:
            if value not in vocabulary:
                raise DataError(
                    f"label {value!r} is not one of the {self.task} labels {list(vocabulary)}",
                    file=file,
                    line=line,
                )
            return value
        try:
            score = float(value)
        except ValueError:
            score = math.nan
        if not math.isfinite(score):
            raise DataError(f"score {value!r} is not a finite number", file=file, line=line)
        bounds = self._layout.scores
        if bounds is not None and not bounds[0] <= score <= bounds[1]:
            raise DataError(
                f"score {value} is outside the {self.task} range [{bounds[0]:g}, {bounds[1]:g}]",
                file=file,
                line=line,
            )
        return score


def _rows(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(1-based line number, tab-separated fields)`` for every non-empty line."""
    for number, text in lines:
        if text.strip():
            yield number, text.split("\t")


def _prepend(
    first: tuple[int, list[str]], rest: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str]]]:
    """Put an already-read row back in front of the remaining rows."""
    yield first
    yield from rest


def _names(header: Sequence[str]) -> list[str]:
    """Header cells with surrounding whitespace removed."""
    return [cell.strip() for cell in header]


def _task_hint(task: str) -> str:
    """Name the valid tasks and, when one is close, suggest it."""
    choices = list(_LAYOUTS)
    hint = f"choose one of {choices}"
    normalised = task.lower().replace("-", "").replace("_", "")
    if normalised in _LAYOUTS:
        return f"{hint}; did you mean {normalised!r}?"
    close = difflib.get_close_matches(normalised, choices, n=1)
    return f"{hint}; did you mean {close[0]!r}?" if close else hint
