"""Reader for the SNLI 1.0 release (jsonl and txt files), plus JSON-lines helpers of the NLI readers."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from mtdnn.errors import DataError
from mtdnn.readers.base import Reader
from mtdnn.readers.files import parse_json, text_lines
from mtdnn.types import Example

__all__ = ["NLI_LABELS", "SnliReader", "json_records", "looks_like_jsonl", "record_text", "tsv_rows"]

logger = logging.getLogger(__name__)

NLI_LABELS = ("contradiction", "entailment", "neutral")
"""The three-way NLI labels in index order (the order of MNLI in the GLUE reader)."""

_NO_CONSENSUS = "-"
_TXT_COLUMNS = ("gold_label", "sentence1", "sentence2", "pairID")


def json_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(1-based line number, object)`` for every non-empty line of a JSON-lines file.

    Args:
        path: The file to read (UTF-8, an optional BOM is ignored).

    Yields:
        The line number and the decoded JSON object of each non-empty line.

    Raises:
        DataError: A line is not valid JSON or not a JSON object.
    """
    file = str(path)
    for number, raw in text_lines(path):
        text = raw.strip()
        if not text:
            continue
        value = parse_json(text, file=file, line=number)
        if not isinstance(value, dict):
            raise DataError(f"expected a JSON object, got {type(value).__name__}", file=file, line=number)
        yield number, value


def tsv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(1-based line number, tab-separated fields)`` for every non-empty line of a file.

    Args:
        path: The file to read (UTF-8, an optional BOM is ignored); fields are split on tabs only.

    Yields:
        The line number and the fields of each non-empty line.
    """
    for number, text in text_lines(path):
        if text.strip():
            yield number, text.split("\t")


def record_text(record: Mapping[str, Any], key: str, file: str, line: int) -> str:
    """Return the string field ``key`` of a JSON record, stripped, or fail naming the line.

    Args:
        record: One decoded JSON line.
        key: The field to read.
        file: The file, for the error message.
        line: The 1-based line number, for the error message.

    Returns:
        The field's text with surrounding whitespace removed.

    Raises:
        DataError: The field is missing or is not a string.
    """
    if key not in record:
        raise DataError(f"missing field {key!r}; found {sorted(record)}", file=file, line=line)
    value = record[key]
    if not isinstance(value, str):
        raise DataError(
            f"field {key!r} must be a string, got {type(value).__name__} {value!r}", file=file, line=line
        )
    return value.strip()


def looks_like_jsonl(path: Path) -> bool:
    """Tell whether a file holds JSON lines: its first non-blank character opens a JSON object.

    Args:
        path: The file to look at.

    Returns:
        ``True`` when the first non-blank character is ``{``; ``False`` otherwise (also for an
        empty file).
    """
    for _, raw in text_lines(path):
        text = raw.strip()
        if text:
            return text.startswith("{")
    return False


class SnliReader(Reader):
    """Reads the SNLI 1.0 release, as JSON lines (``.jsonl``) or tab-separated text (``.txt``).

    The JSON-lines files give ``sentence1`` (premise, ``text_a``), ``sentence2`` (hypothesis,
    ``text_b``), ``gold_label`` and ``pairID`` (the example id) on each line. The ``.txt`` files
    hold the same fields as tab-separated columns under a header line (``gold_label
    sentence1_binary_parse ... sentence1 sentence2 captionID pairID label1 ... label5``); the
    columns are found by header name, and trailing columns after the needed ones may be missing.
    Pairs whose ``gold_label`` is ``-`` (no annotator consensus) are dropped, as is usual; their
    number is logged. Texts are stripped of surrounding whitespace; empty lines are skipped.

    Args:
        format: ``jsonl``, ``txt`` or ``auto``: decided by the file suffix (``.jsonl`` or
            ``.txt``), else by the first non-empty line (a JSON object means JSON lines).
    """

    def __init__(self, *, format: Literal["auto", "jsonl", "txt"] = "auto") -> None:
        self.format = format

    @property
    def pairs(self) -> bool | None:
        """A premise and a hypothesis."""
        return True

    @property
    def labels(self) -> list[str]:
        """``contradiction``, ``entailment``, ``neutral`` (the MNLI order of the GLUE reader)."""
        return list(NLI_LABELS)

    def read(self, path: str | Path) -> Iterator[Example]:
        """Yield the labelled examples of one SNLI file in file order.

        Args:
            path: An SNLI ``.jsonl`` or ``.txt`` file.

        Yields:
            One :class:`~mtdnn.types.Example` per line with a gold label other than ``-``.

        Raises:
            DataError: A line is not valid JSON, a field or header column is missing, a row is
                too short, a gold label is not an NLI label or ``-``, a pairID repeats, or the file
                holds no examples; the message names the file and line.
        """
        path = Path(path)
        file = str(path)
        jsonl = self._is_jsonl(path)
        rows = _json_rows(path) if jsonl else _txt_rows(path)
        seen: set[str] = set()
        kept = dropped = 0
        for line, (label, premise, hypothesis, pair_id) in rows:
            if label == _NO_CONSENSUS:
                dropped += 1
                continue
            if label not in NLI_LABELS:
                raise DataError(
                    f"gold_label {label!r} is not one of {list(NLI_LABELS)} or {_NO_CONSENSUS!r}",
                    file=file,
                    line=line,
                )
            if pair_id in seen:
                raise DataError(f"duplicate pairID {pair_id!r}", file=file, line=line)
            seen.add(pair_id)
            kept += 1
            yield Example(id=pair_id, text_a=premise, text_b=hypothesis, label=label)
        if kept == 0:
            raise DataError("the file holds no labelled examples", file=file)
        logger.info(
            "read %d SNLI examples from %s; dropped %d without a gold label (%r)",
            kept,
            file,
            dropped,
            _NO_CONSENSUS,
        )

    def _is_jsonl(self, path: Path) -> bool:
        """Decide the format of ``path`` from the option, the suffix or the first line."""
        if self.format != "auto":
            return self.format == "jsonl"
        suffix = path.suffix.lower()
        if suffix in (".jsonl", ".txt"):
            return suffix == ".jsonl"
        return looks_like_jsonl(path)


_Row = tuple[int, tuple[str, str, str, str]]


def _json_rows(path: Path) -> Iterator[_Row]:
    """Yield ``(line, (gold_label, sentence1, sentence2, pairID))`` from SNLI JSON lines."""
    file = str(path)
    for line, record in json_records(path):
        label, premise, hypothesis, pair_id = (record_text(record, key, file, line) for key in _TXT_COLUMNS)
        yield line, (label, premise, hypothesis, pair_id)


def _txt_rows(path: Path) -> Iterator[_Row]:
    """Yield ``(line, (gold_label, sentence1, sentence2, pairID))`` from the SNLI ``.txt`` layout."""
    file = str(path)
    rows = tsv_rows(path)
    first = next(rows, None)
    if first is None:
        raise DataError("the file is empty (no header and no data lines)", file=file, line=1)
    header_line, header = first
    positions = _positions(header, file, header_line)
    yield from _txt_fields(rows, positions, file)


def _positions(header: Iterable[str], file: str, line: int) -> tuple[int, int, int, int]:
    """Find the needed columns in the ``.txt`` header, or fail naming the missing ones."""
    names = [cell.strip() for cell in header]
    missing = [name for name in _TXT_COLUMNS if name not in names]
    if missing:
        raise DataError(
            f"the header lacks column(s) {missing}; found {names}. Is this an SNLI .txt file?",
            file=file,
            line=line,
        )
    label, premise, hypothesis, pair_id = (names.index(name) for name in _TXT_COLUMNS)
    return label, premise, hypothesis, pair_id


def _txt_fields(
    rows: Iterable[tuple[int, list[str]]], positions: tuple[int, int, int, int], file: str
) -> Iterator[_Row]:
    """Pick the needed fields from each data row."""
    needed = max(positions) + 1
    for line, fields in rows:
        if len(fields) < needed:
            raise DataError(
                f"expected at least {needed} tab-separated columns, found {len(fields)}", file=file, line=line
            )
        label, premise, hypothesis, pair_id = (fields[index].strip() for index in positions)
        yield line, (label, premise, hypothesis, pair_id)
