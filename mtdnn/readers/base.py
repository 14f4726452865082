"""The reader interface: a data file in, examples out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mtdnn.types import Example

__all__ = ["Reader"]


class Reader:
    """Turns one data file into :class:`~mtdnn.types.Example` objects.

    Subclasses implement :meth:`read` and :attr:`labels`; a reader whose labels come from the
    data also implements :meth:`collect_labels`, and one that needs a label column
    :meth:`without_labels`.
    """

    @property
    def labels(self) -> list[str] | None:
        """The label vocabulary in index order, or ``None`` for real-valued targets."""
        raise NotImplementedError

    @property
    def pairs(self) -> bool | None:
        """Whether every example is a pair of texts (``True``), a single text (``False``), or unknown.

        ``mtdnn predict`` checks raw inputs against it: a pair task given one text per line (or
        a single-text task given two) is an error at the line, not a silent guess.
        """
        return None

    def collect_labels(self, path: str | Path) -> list[str] | None:
        """For a reader whose labels come from the data: collect them from ``path`` and keep them.

        Called with the task's training file when the experiment is built, if neither the task
        nor the reader gives labels. Returns the labels in id order, or ``None`` when the reader
        collects none (the default: its labels are fixed, or it has real-valued targets).

        Raises:
            DataError: The file is missing or malformed.
        """
        return None

    def without_labels(self) -> Reader:
        """This reader for unlabelled files of the same layout (inputs to predict); itself by default."""
        return self

    def read(self, path: str | Path) -> Iterator[Example]:
        """Yield the examples of ``path`` in file order.

        Raises:
            DataError: A line is malformed (the message names file and line).
        """
        raise NotImplementedError
