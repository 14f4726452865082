"""Reader for GLUE QNLI as a ranking task: the candidate sentences of one question form a group."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

from mtdnn.readers.base import Reader
from mtdnn.readers.glue import GlueReader
from mtdnn.types import Example

__all__ = ["QnliRankingReader"]


class QnliRankingReader(Reader):
    """Reads the GLUE QNLI files with each example's group set to its question.

    The files, ids, texts and labels (``entailment``, ``not_entailment``) are exactly those of
    the ``glue`` reader with ``task: qnli``; in addition each example's ``group`` is its
    (stripped) question text, so the candidate sentences of one question share a group, as
    MT-DNN's pairwise-ranking formulation of QNLI needs. Rows of one question are not adjacent
    in the official files, so groups are not contiguous in file order: whatever scores a group
    together must collect its members by ``group``.
    """

    def __init__(self) -> None:
        self._glue = GlueReader("qnli")

    @property
    def pairs(self) -> bool | None:
        """A question and a candidate sentence."""
        return True

    @property
    def labels(self) -> list[str] | None:
        """``entailment``, ``not_entailment``."""
        return self._glue.labels

    def read(self, path: str | Path) -> Iterator[Example]:
        """Yield the examples of one QNLI file in file order, each grouped by its question.

        Args:
            path: A GLUE QNLI ``.tsv`` file (train, dev or unlabelled test).

        Yields:
            One :class:`~mtdnn.types.Example` per data row, with ``group`` set to ``text_a``.

        Raises:
            DataError: As the ``glue`` reader does; the message names the file and line.
        """
        for example in self._glue.read(path):
            yield dataclasses.replace(example, group=example.text_a)
