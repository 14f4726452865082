"""How every reader opens a file: UTF-8 lines and JSON, with each problem a DataError at file:line.

One boundary for what users feed in: a missing file, bytes that are not UTF-8, JSON that does not
parse or nests too deeply all become a :class:`~mtdnn.errors.DataError` naming the file and the
line, never a ``UnicodeDecodeError``, ``FileNotFoundError`` or ``RecursionError``. A UTF-8
byte-order mark is dropped; ``\\n``, ``\\r\\n`` and (in a file without ``\\n``) bare ``\\r`` all end
lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mtdnn.errors import DataError

__all__ = ["parse_json", "read_json", "text_lines"]

BOM = b"\xef\xbb\xbf"


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise DataError("is a directory, not a data file", file=str(path))
    if not path.is_file():
        raise DataError("no such file", file=str(path))


def text_lines(path: str | Path, *, keep_ends: bool = False) -> Iterator[tuple[int, str]]:
    """Each line of a UTF-8 text file with its 1-based number, without its line ending.

    Args:
        path: The file.
        keep_ends: End every line with ``"\\n"`` (for the ``csv`` module, whose quoted fields may
            span lines).

    Raises:
        DataError: The file is missing, or a line is not UTF-8 (named by its number and the
            byte within the line).
    """
    path = Path(path)
    _check_file(path)
    with path.open("rb") as stream:
        number = 0
        for raw in stream:
            if number == 0 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            pieces = [raw.rstrip(b"\r\n")]
            if number == 0 and not raw.endswith(b"\n") and b"\r" in pieces[0]:
                pieces = raw.split(b"\r")  # no "\n" in the whole file: classic Mac line endings
                if pieces[-1] == b"":
                    pieces.pop()
            for piece in pieces:
                number += 1
                try:
                    text = piece.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise DataError(
                        f"not UTF-8 text (byte {exc.start + 1} of the line); save the file as UTF-8",
                        file=str(path),
                        line=number,
                    ) from exc
                yield number, text + "\n" if keep_ends else text


def read_json(path: str | Path) -> Any:
    """The decoded JSON document of a whole file (UTF-8, an optional byte-order mark dropped).

    Raises:
        DataError: The file is missing, not UTF-8, not valid JSON or nested too deeply (with the
            line where known).
    """
    path = Path(path)
    _check_file(path)
    data = path.read_bytes()
    if data.startswith(BOM):
        data = data[len(BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError("not UTF-8 text; save the file as UTF-8", file=str(path), line=line) from exc
    return parse_json(text, file=str(path))


def parse_json(text: str, *, file: str, line: int | None = None) -> Any:
    """Decode one JSON document (a whole file, or one line of a JSON-lines file at ``line``).

    Raises:
        DataError: It is not valid JSON, or nests so deep that the decoder gives up (about a
            thousand levels: no data record does that).
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = line if line is not None else exc.lineno
        raise DataError(f"not valid JSON: {exc.msg} (column {exc.colno})", file=file, line=where) from exc
    except RecursionError as exc:
        raise DataError("JSON nested too deeply to be a data record", file=file, line=line) from exc
    except ValueError as exc:  # an integer of more digits than Python converts (4300)
        raise DataError(f"not usable JSON: {exc}", file=file, line=line) from exc
