"""Your own labelled text: CSV, TSV or JSONL files whose columns you name (the ``columns`` reader)."""

from __future__ import annotations

import csv
import difflib
import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from mtdnn.config.checks import check_range
from mtdnn.errors import ConfigurationError, DataError
from mtdnn.readers.base import Reader
from mtdnn.readers.files import parse_json, text_lines
from mtdnn.types import Example

__all__ = ["ColumnsReader", "label_order"]

Format = Literal["auto", "csv", "tsv", "jsonl"]
Kind = Literal["classification", "regression", "multilabel"]
Column = str | int

_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


def label_order(labels: Iterable[str]) -> list[str]:
    """The order collected labels get ids in: numerically when every label is an integer, else sorted.

    ``["10", "2", "1"]`` becomes ``["1", "2", "10"]``; ``["pos", "neg"]`` becomes ``["neg", "pos"]``.
    The order depends only on the set of labels, never on the order of the file's rows.
    """
    unique = set(labels)
    try:
        return sorted(unique, key=lambda label: (int(label), label))  # "1", "01", "+1" tie on int
    except ValueError:
        return sorted(unique)


class ColumnsReader(Reader):
    """Examples from a CSV, TSV or JSONL file with columns you name.

    Each row (CSV/TSV) or line (JSONL, one object per line) is an example: ``text`` (and
    ``text_pair`` for pair tasks) from the named columns, the label from ``label`` (none: an
    unlabelled file, e.g. inputs to predict), the id from ``id`` (none: the 1-based line number
    where the row starts). In a file without a header, columns are 0-based positions.

    **Labels.** For ``classification`` and ``multilabel`` the labels are strings. Give them
    (``labels``, which fixes their order), or let them be collected from the task's training
    file when the experiment is built: then they are ordered by :func:`label_order` (numerically
    when they are all integers, else sorted), whatever the order of the rows. A label outside
    the labels is an error at its file and line. ``label_map`` renames the file's values
    (``{'0': 'negative', '1': 'positive'}``); ``labels`` then lists the new names. A
    ``multilabel`` label is a JSON list, or a field split on ``label_separator``. A
    ``regression`` label is a finite number, within ``range`` where one is given.

    Args:
        text: The column of the (first) text.
        text_pair: The column of the second text of a pair task.
        label: The label column; ``None`` for a file without labels.
        id: The id column; ``None`` numbers the examples by line.
        format: ``csv``, ``tsv``, ``jsonl`` or ``auto`` (by suffix: ``.csv``; ``.tsv``, ``.tab``;
            ``.jsonl``, ``.ndjson``, ``.json``).
        header: Whether the first CSV/TSV row names the columns.
        delimiter: The CSV/TSV field separator (default ``,`` for CSV, a tab for TSV).
        quoting: ``minimal`` (fields may be wrapped in double quotes, as spreadsheets and pandas
            write them) or ``none`` (quotes are ordinary characters, as in GLUE's TSV files).
            Default: ``minimal`` for CSV, ``none`` for TSV.
        kind: ``classification`` (one label), ``multilabel`` (a set of labels) or ``regression``.
        labels: The label vocabulary in id order (default: collected from the training file).
        label_map: Renames the file's label values.
        label_separator: Splits a ``multilabel`` field (e.g. ``|``).
        range: ``[low, high]``: the values a ``regression`` label may take (both ends included);
            one outside is an error at its line (e.g. ``[0, 5]`` for similarity scores).
    """

    def __init__(
        self,
        text: Column,
        *,
        text_pair: Column | None = None,
        label: Column | None = None,
        id: Column | None = None,
        format: Format = "auto",
        header: bool = True,
        delimiter: str | None = None,
        quoting: Literal["minimal", "none"] | None = None,
        kind: Kind = "classification",
        labels: list[str] | None = None,
        label_map: dict[str, str] | None = None,
        label_separator: str | None = None,
        range: tuple[float, float] | None = None,
    ) -> None:
        if range is not None and kind != "regression":
            raise ConfigurationError("range is for kind: 'regression'", path="range")
        check_range(range, path="range")
        if delimiter is not None and len(delimiter) != 1:
            raise ConfigurationError(f"delimiter must be one character, got {delimiter!r}", path="delimiter")
        if labels is not None and len(set(labels)) != len(labels):
            raise ConfigurationError(f"labels has duplicates: {labels}", path="labels")
        if kind == "regression" and (labels is not None or label_map is not None):
            raise ConfigurationError("a regression task has no labels to list or map", path="labels")
        if label_separator is not None and kind != "multilabel":
            raise ConfigurationError("label_separator is for kind: 'multilabel'", path="label_separator")
        if label is None and (labels is not None or label_map is not None):
            raise ConfigurationError("labels and label_map need a label column", path="label")
        named = [c for c in (text, text_pair, label, id) if c is not None]
        if len(set(named)) != len(named):
            raise ConfigurationError(f"the same column is named twice: {named}", path="text")
        if header and any(isinstance(c, int) for c in named):
            raise ConfigurationError(
                "columns are numbers, but the file has a header",
                path="header",
                hint="name the columns, or set header: false",
            )
        self.text, self.text_pair, self.label, self.id = text, text_pair, label, id
        self.format, self.header, self.delimiter, self.quoting = format, header, delimiter, quoting
        self.kind, self.label_map, self.label_separator = kind, label_map, label_separator
        self._labels = list(labels) if labels is not None else None
        self.range = range

    @property
    def pairs(self) -> bool | None:
        """Whether a ``text_pair`` column is named."""
        return self.text_pair is not None

    @property
    def labels(self) -> list[str] | None:
        """The labels in id order, given or collected (:meth:`collect_labels`); else ``None`` (regression)."""
        return None if self._labels is None else list(self._labels)

    def collect_labels(self, path: str | Path) -> list[str] | None:
        """Collect the labels of ``path`` (the training file) and keep them, in :func:`label_order`.

        Returns ``None`` (collecting nothing) for regression, for a file without a label column
        and when the labels are already known.

        Raises:
            DataError: The file is missing or malformed, or has no labels.
        """
        if self._labels is not None or self.kind == "regression" or self.label is None:
            return None
        found: set[str] = set()
        for record in self._records(Path(path)):
            value = record.label
            found.update(value if isinstance(value, list) else [str(value)])
        if not found:
            raise DataError("no labelled rows to collect the labels from", file=str(path))
        self._labels = label_order(found)
        return list(self._labels)

    def without_labels(self) -> ColumnsReader:
        """The same reader for files without the label column (inputs to predict)."""
        copy = ColumnsReader.__new__(ColumnsReader)
        copy.__dict__.update(self.__dict__)
        copy.label = None
        return copy

    def read(self, path: str | Path) -> Iterator[Example]:
        """Yield one example per row or line, in file order.

        Raises:
            DataError: The file is missing, not UTF-8, malformed (a ragged row, invalid JSON), lacks
                a named column, has an empty text, an unknown label, a label that is not a number
                (regression), or an id twice; the message names the file and line.
        """
        path = Path(path)
        seen: dict[str, int] = {}
        for record in self._records(path):
            if record.id in seen:
                raise DataError(
                    f"id {record.id!r} was already used at line {seen[record.id]}",
                    file=str(path),
                    line=record.line,
                )
            seen[record.id] = record.line
            yield Example(
                id=record.id, text_a=record.text, text_b=record.text_pair, label=self._checked(record, path)
            )

    def _checked(self, record: _Record, path: Path) -> str | float | list[str] | None:
        value = record.label
        if value is None or self._labels is None:
            return value
        names = value if isinstance(value, list) else [value]
        unknown = [name for name in names if name not in self._labels]
        if unknown:
            raise DataError(
                f"label {unknown[0]!r} is not one of the task's labels {self._labels}",
                file=str(path),
                line=record.line,
            )
        return value

    # -- parsing ----------------------------------------------------------------------------------

    def _records(self, path: Path) -> Iterator[_Record]:
        kind = self._format(path)
        lines = text_lines(path, keep_ends=True)
        yield from (
            self._json_records(lines, path) if kind == "jsonl" else self._table_records(lines, path, kind)
        )

    def _format(self, path: Path) -> str:
        if self.format != "auto":
            return self.format
        kind = _SUFFIXES.get(path.suffix.lower())
        if kind is None:
            raise DataError(
                f"cannot tell the format from the suffix {path.suffix!r}; set the reader's format "
                "to csv, tsv or jsonl",
                file=str(path),
            )
        return kind

    def _table_records(self, lines: Iterator[tuple[int, str]], path: Path, kind: str) -> Iterator[_Record]:
        delimiter = self.delimiter or ("," if kind == "csv" else "\t")
        quoting = self.quoting or ("minimal" if kind == "csv" else "none")
        numbers: list[int] = []

        def numbered() -> Iterator[str]:
            for number, line in lines:
                numbers.append(number)
                yield line

        rows = csv.reader(
            numbered(),
            delimiter=delimiter,
            quoting=csv.QUOTE_MINIMAL if quoting == "minimal" else csv.QUOTE_NONE,
            strict=quoting == "minimal",
        )
        positions: dict[Column, int] | None = None
        width = 0
        while True:
            consumed = len(numbers)
            try:
                fields = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:
                raise DataError(
                    f"malformed {kind.upper()} ({exc})", file=str(path), line=numbers[-1]
                ) from exc
            line = numbers[consumed] if consumed < len(numbers) else numbers[-1]
            if not fields or all(not f.strip() for f in fields):
                continue
            if positions is None:
                width = len(fields)
                positions = (
                    self._positions(fields, path, line) if self.header else self._indices(width, path, line)
                )
                if self.header:
                    continue
            if len(fields) != width:
                first = "header has" if self.header else "first row has"
                advice = " Try quoting: none." if quoting == "minimal" else ""
                raise DataError(
                    f"{len(fields)} fields where the {first} {width} (a stray delimiter or quote?{advice})",
                    file=str(path),
                    line=line,
                )
            yield self._record({c: fields[i] for c, i in positions.items()}, path, line)
        if positions is None:
            raise DataError("the file is empty", file=str(path))

    def _positions(self, header: list[str], path: Path, line: int) -> dict[Column, int]:
        names = [name.strip() for name in header]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise DataError(
                f"the header names the columns {repeated} more than once", file=str(path), line=line
            )
        positions: dict[Column, int] = {}
        for column in self._columns():
            if column not in names:
                raise DataError(_missing(column, names), file=str(path), line=line)
            positions[column] = names.index(str(column))
        return positions

    def _indices(self, width: int, path: Path, line: int) -> dict[Column, int]:
        for column in self._columns():
            if not isinstance(column, int) or not 0 <= column < width:
                raise DataError(
                    f"column {column!r} is not a position in a row of {width} fields (0 to {width - 1})",
                    file=str(path),
                    line=line,
                )
        return {column: int(column) for column in self._columns()}

    def _json_records(self, lines: Iterator[tuple[int, str]], path: Path) -> Iterator[_Record]:
        empty = True
        for number, line in lines:
            if not line.strip():
                continue
            empty = False
            value = parse_json(line, file=str(path), line=number)
            if not isinstance(value, dict):
                raise DataError(
                    f"each line must be a JSON object, got {type(value).__name__}",
                    file=str(path),
                    line=number,
                )
            for column in self._columns():
                if column not in value:
                    raise DataError(_missing(column, list(value)), file=str(path), line=number)
            yield self._record({c: value[c] for c in self._columns()}, path, number)
        if empty:
            raise DataError("the file is empty", file=str(path))

    def _columns(self) -> list[Column]:
        return [c for c in (self.text, self.text_pair, self.label, self.id) if c is not None]

    def _record(self, values: dict[Column, Any], path: Path, line: int) -> _Record:
        def text(column: Column) -> str:
            value = values[column]
            if not isinstance(value, str):
                raise DataError(
                    f"column {column!r} must be text, got {json.dumps(value)[:40]}", file=str(path), line=line
                )
            value = value.strip()
            if not value:
                raise DataError(f"column {column!r} is empty", file=str(path), line=line)
            return value

        identity = str(line) if self.id is None else _scalar(values[self.id], self.id, path, line)
        label = None if self.label is None else self._label(values[self.label], path, line)
        pair = None if self.text_pair is None else text(self.text_pair)
        return _Record(line=line, id=identity, text=text(self.text), text_pair=pair, label=label)

    def _label(self, value: Any, path: Path, line: int) -> str | float | list[str]:
        column = self.label
        assert column is not None
        if self.kind == "regression":
            try:
                number = (
                    float(value)
                    if isinstance(value, str | int | float) and not isinstance(value, bool)
                    else math.nan
                )
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise DataError(
                    f"label {value!r} in column {column!r} is not a finite number", file=str(path), line=line
                )
            if self.range is not None and not self.range[0] <= number <= self.range[1]:
                low, high = self.range
                raise DataError(
                    f"label {number:g} in column {column!r} is outside the range [{low:g}, {high:g}]",
                    file=str(path),
                    line=line,
                )
            return number
        if self.kind == "multilabel":
            if isinstance(value, list):
                names = [_scalar(v, column, path, line) for v in value]
            else:
                field = _scalar(value, column, path, line)
                names = field.split(self.label_separator) if self.label_separator else [field]
            return [self._renamed(name.strip()) for name in names if name.strip()]
        name = _scalar(value, column, path, line)
        if not name:
            raise DataError(f"the label in column {column!r} is empty", file=str(path), line=line)
        return self._renamed(name)

    def _renamed(self, name: str) -> str:
        return self.label_map.get(name, name) if self.label_map is not None else name


class _Record:
    __slots__ = ("id", "label", "line", "text", "text_pair")

    def __init__(
        self, *, line: int, id: str, text: str, text_pair: str | None, label: str | float | list[str] | None
    ) -> None:
        self.line, self.id, self.text, self.text_pair, self.label = line, id, text, text_pair, label


def _scalar(value: Any, column: Column, path: Path, line: int) -> str:
    """A string, number or boolean field as text (JSON ids and labels may be numbers)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value).strip()
    raise DataError(
        f"column {column!r} must be a string or a number, got {json.dumps(value)[:40]}",
        file=str(path),
        line=line,
    )


def _missing(column: Column, names: list[str]) -> str:
    close = difflib.get_close_matches(str(column), names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"no column {column!r} (the columns are {names}){hint}"
