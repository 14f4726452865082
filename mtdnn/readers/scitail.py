"""Reader for the SciTail v1.1 entailment data set (``tsv_format`` and ``snli_format`` files)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from mtdnn.errors import DataError
from mtdnn.readers.base import Reader
from mtdnn.readers.snli import json_records, looks_like_jsonl, record_text, tsv_rows
from mtdnn.types import Example

__all__ = ["SciTailReader"]

logger = logging.getLogger(__name__)

_LABELS = ("entails", "neutral")
# snli_format spells the positive class as SNLI does; tsv_format (and predictor_format) say "entails".
_JSONL_LABELS = MappingProxyType({"entailment": "entails", "entails": "entails", "neutral": "neutral"})


class SciTailReader(Reader):
    """Reads SciTail v1.1 files: ``tsv_format`` rows or ``snli_format`` JSON lines.

    ``tsv_format`` files (``scitail_1.0_train.tsv``) have no header and three tab-separated
    columns: premise, hypothesis, label (``entails`` or ``neutral``); example ids are the file
    stem and the 1-based row number among the non-empty lines (``scitail_1.0_dev-7``).
    ``snli_format`` files (``scitail_1.0_train.txt``, JSON lines despite the suffix) give
    ``sentence1`` (premise), ``sentence2`` (hypothesis) and ``gold_label``, where the positive
    class is spelled ``entailment`` (read as ``entails``); the id is ``pairID`` where a line has
    one, else the stem and the line's row number as above. Texts are stripped; empty lines are
    skipped.

    Args:
        format: ``tsv``, ``jsonl`` or ``auto``: ``.tsv`` means tsv and ``.jsonl`` JSON lines;
            any other suffix (the official ``snli_format`` files end in ``.txt``) is decided by
            the first non-empty line (a JSON object means JSON lines).
    """

    def __init__(self, *, format: Literal["auto", "tsv", "jsonl"] = "auto") -> None:
        self.format = format

    @property
    def pairs(self) -> bool | None:
        """A premise and a hypothesis."""
        return True

    @property
    def labels(self) -> list[str]:
        """``entails``, ``neutral``."""
        return list(_LABELS)

    def read(self, path: str | Path) -> Iterator[Example]:
        """Yield the examples of one SciTail file in file order.

        Args:
            path: A SciTail ``tsv_format`` or ``snli_format`` file.

        Yields:
            One :class:`~mtdnn.types.Example` per non-empty line.

        Raises:
            DataError: A row does not have three columns, a line is not valid JSON or lacks a
                field, a label is not a SciTail label, an id repeats, or the file is empty; the
                message names the file and line.
        """
        path = Path(path)
        file = str(path)
        rows = self._jsonl_rows(path) if self._is_jsonl(path) else self._tsv_rows(path)
        seen: set[str] = set()
        for line, example in rows:
            if example.id in seen:
                raise DataError(f"duplicate example id {example.id!r}", file=file, line=line)
            seen.add(example.id)
            yield example
        if not seen:
            raise DataError("the file holds no examples", file=file)
        logger.debug("read %d SciTail examples from %s", len(seen), file)

    def _is_jsonl(self, path: Path) -> bool:
        """Decide the format of ``path`` from the option, the suffix or the first line."""
        if self.format != "auto":
            return self.format == "jsonl"
        suffix = path.suffix.lower()
        if suffix in (".tsv", ".jsonl"):
            return suffix == ".jsonl"
        return looks_like_jsonl(path)

    def _tsv_rows(self, path: Path) -> Iterator[tuple[int, Example]]:
        """Yield ``(line, example)`` from a header-less ``premise, hypothesis, label`` file."""
        file = str(path)
        for row, (line, fields) in enumerate(tsv_rows(path), start=1):
            if len(fields) != 3:
                raise DataError(
                    f"expected 3 tab-separated columns (premise, hypothesis, label), found {len(fields)}",
                    file=file,
                    line=line,
                )
            premise, hypothesis, label = (field.strip() for field in fields)
            if label not in _LABELS:
                raise DataError(f"label {label!r} is not one of {list(_LABELS)}", file=file, line=line)
            yield line, Example(id=f"{path.stem}-{row}", text_a=premise, text_b=hypothesis, label=label)

    def _jsonl_rows(self, path: Path) -> Iterator[tuple[int, Example]]:
        """Yield ``(line, example)`` from ``snli_format`` JSON lines."""
        file = str(path)
        for row, (line, record) in enumerate(json_records(path), start=1):
            raw = record_text(record, "gold_label", file, line)
            label = _JSONL_LABELS.get(raw)
            if label is None:
                raise DataError(
                    f"gold_label {raw!r} is not one of {list(_JSONL_LABELS)}", file=file, line=line
                )
            example_id = (
                record_text(record, "pairID", file, line) if "pairID" in record else f"{path.stem}-{row}"
            )
            yield (
                line,
                Example(
                    id=example_id,
                    text_a=record_text(record, "sentence1", file, line),
                    text_b=record_text(record, "sentence2", file, line),
                    label=label,
                ),
            )
