"""Unlabelled text for masked-LM training: raw text files, or the texts of another task's file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mtdnn.readers.base import Reader
from mtdnn.readers.files import text_lines
from mtdnn.types import Example

__all__ = ["TaskTextsReader", "TextReader"]


class TextReader(Reader):
    """A raw text file: one document or sentence per line, blank lines skipped, no labels.

    Example ids are ``STEM:LINE`` (the file name without suffix and the 1-based line number).
    """

    @property
    def pairs(self) -> bool | None:
        """One text per example."""
        return False

    @property
    def labels(self) -> None:
        """Raw text has no labels."""
        return None

    def read(self, path: str | Path) -> Iterator[Example]:
        """Yield one unlabelled example per non-blank line of a UTF-8 file.

        Raises:
            DataError: The file is missing or not UTF-8.
        """
        path = Path(path)
        for number, line in text_lines(path):
            text = line.strip()
            if text:
                yield Example(id=f"{path.stem}:{number}", text_a=text)


class TaskTextsReader(Reader):
    """The texts of another reader's examples, each alone and unlabelled (masked-LM over a task's data).

    Both sides of a pair become separate examples (ids ``ID:a`` and ``ID:b``); labels are dropped.

    Args:
        reader: The reader of the task whose texts are used.
    """

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    @property
    def pairs(self) -> bool | None:
        """Each text of the wrapped reader alone."""
        return False

    @property
    def labels(self) -> None:
        """Unlabelled."""
        return None

    def read(self, path: str | Path) -> Iterator[Example]:
        """Yield ``text_a`` and, for pairs, ``text_b`` of each of the wrapped reader's examples."""
        for example in self.reader.read(path):
            yield Example(id=f"{example.id}:a", text_a=example.text_a)
            if example.text_b is not None:
                yield Example(id=f"{example.id}:b", text_a=example.text_b)
