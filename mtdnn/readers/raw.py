"""Raw inputs to predict: JSONL objects or TSV lines of one text or a pair (``mtdnn predict``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mtdnn.errors import DataError
from mtdnn.readers.files import parse_json, text_lines
from mtdnn.types import Example

__all__ = ["read_raw_examples"]


def read_raw_examples(path: Path, *, pairs: bool | None = None) -> Iterator[Example]:
    """Read raw inputs: JSONL objects or TSV lines of one text or a pair.

    JSONL lines hold ``text`` (or ``text_a``), optionally ``text_b``, ``id`` and ``group`` (the
    query of a ranking candidate: candidates of one group are ranked together). TSV lines hold
    ``text`` or ``text_a<TAB>text_b`` (no header). Ids default to the 1-based line number and
    must be unique.

    Args:
        path: The input file.
        pairs: What the task takes (its reader's :attr:`~mtdnn.readers.base.Reader.pairs`):
            ``True``, every input must have a second text; ``False``, none may; ``None``, either.

    Raises:
        DataError: A line is malformed, has one text too many or too few for the task, or
            repeats an id (file and line in the message).
    """
    jsonl = path.suffix.lower() in {".jsonl", ".json", ".ndjson"}
    seen: dict[str, int] = {}
    for number, line in text_lines(path):
        if not line.strip():
            continue
        if jsonl:
            example = _json_example(line, path, number)
        else:
            columns = line.split("\t")
            if len(columns) > 2:
                raise DataError(
                    f"expected 1 or 2 tab-separated texts, found {len(columns)} columns",
                    file=str(path),
                    line=number,
                )
            example = Example(
                id=str(number), text_a=columns[0], text_b=columns[1] if len(columns) == 2 else None
            )
        _check_texts(example, pairs, jsonl, path, number)
        if example.id in seen:
            raise DataError(
                f"id {example.id!r} was already used at line {seen[example.id]}; ids must be unique",
                file=str(path),
                line=number,
            )
        seen[example.id] = number
        yield example


def _check_texts(example: Example, pairs: bool | None, jsonl: bool, path: Path, number: int) -> None:
    """Refuse a single text for a pair task, or a pair for a single-text task."""
    if pairs is True and example.text_b is None:
        form = '{"text": ..., "text_b": ...}' if jsonl else "text<TAB>text_b"
        raise DataError(
            f"the task takes a pair of texts ({form}); this input has one", file=str(path), line=number
        )
    if pairs is False and example.text_b is not None:
        where = '"text_b"' if jsonl else "a second tab-separated column"
        raise DataError(
            f"the task takes one text, and this input has a second one ({where})", file=str(path), line=number
        )


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
