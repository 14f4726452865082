"""The reader interface: a data file in, examples out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mtdnn.types import Example

__all__ = ["Reader"]


class Reader:
    """Turns one data file into :class:`~mtdnn.types.Example` objects.

    Subclasses implement :meth:`read` and :attr:`labels`.
    """

    @property
    def labels(self) -> list[str] | None:
        """The label vocabulary in index order, or ``None`` for real-valued targets."""
        raise NotImplementedError

    def read(self, path: str | Path) -> Iterator[Example]:
        """Yield the examples of ``path`` in file order.

        Raises:
            DataError: A line is malformed (the message names file and line).
        """
        raise NotImplementedError
