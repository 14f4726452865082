"""Raw inputs to predict: JSONL objects or TSV lines of one text or a pair (``mtdnn predict``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mtdnn.errors import DataError
from mtdnn.readers.files import parse_json, text_lines
from mtdnn.types import Example

__all__ = ["read_raw_examples"]


def read_raw_examples(path: Path) -> Iterator[Example]:
    """Read raw inputs: JSONL objects or TSV lines of one text or a pair.

    JSONL lines hold ``text`` (or ``text_a``), optionally ``text_b``, ``id`` and ``group`` (the
    query of a ranking candidate: candidates of one group are ranked together). TSV lines hold
    ``text`` or ``text_a<TAB>text_b`` (no header). Ids default to the 1-based line number.

    Raises:
        DataError: A line is malformed (file and line in the message).
    """
    jsonl = path.suffix.lower() in {".jsonl", ".json", ".ndjson"}
    for number, line in text_lines(path):
        if not line.strip():
            continue
        if jsonl:
            yield _json_example(line, path, number)
            continue
        columns = line.split("\t")
        if len(columns) > 2:
            raise DataError(
                f"expected 1 or 2 tab-separated texts, found {len(columns)} columns",
                file=str(path),
                line=number,
            )
        yield Example(id=str(number), text_a=columns[0], text_b=columns[1] if len(columns) == 2 else None)


def _json_example(line: str, path: Path, number: int) -> Example:
    record = parse_json(line, file=str(path), line=number)
    if not isinstance(record, dict):
        raise DataError("each line must be a JSON object", file=str(path), line=number)
    text = record.get("text_a", record.get("text"))
    if not isinstance(text, str):
        raise DataError("missing 'text' (or 'text_a') string", file=str(path), line=number)
    second = record.get("text_b")
    if second is not None and not isinstance(second, str):
        raise DataError("'text_b' must be a string", file=str(path), line=number)
    group = record.get("group")
    return Example(
        id=str(record.get("id", number)),
        text_a=text,
        text_b=second,
        group=None if group is None else str(group),
    )
