"""Reader for Adversarial NLI (ANLI v1.0) JSON-lines files, one round per file."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType

from mtdnn.errors import DataError
from mtdnn.readers.base import Reader
from mtdnn.readers.snli import NLI_LABELS, json_records, record_text
from mtdnn.types import Example

__all__ = ["AnliReader"]

logger = logging.getLogger(__name__)

_LABELS = MappingProxyType({"c": "contradiction", "e": "entailment", "n": "neutral"})


class AnliReader(Reader):
    """Reads one ANLI round file (``R1/train.jsonl``, ``R3/test.jsonl``, ...) as three-way NLI.

    Each line gives ``uid`` (the example id), ``context`` (premise, ``text_a``),
    ``hypothesis`` (``text_b``) and ``label``, one of ``e``, ``n`` and ``c``, read as
    ``entailment``, ``neutral`` and ``contradiction``; other fields (``reason``, ``model_label``,
    ``tag``, ...) are ignored. A file is one round: to train on several rounds, give each round's
    file to its own task or concatenate the files. Texts are stripped; empty lines are skipped.
    """

    @property
    def pairs(self) -> bool | None:
        """A premise and a hypothesis."""
        return True

    @property
    def labels(self) -> list[str]:
        """``contradiction``, ``entailment``, ``neutral`` (the order of the SNLI and MNLI readers)."""
        return list(NLI_LABELS)

    def read(self, path: str | Path) -> Iterator[Example]:
        """Yield the examples of one ANLI file in file order.

        Args:
            path: An ANLI ``.jsonl`` file of one round and split.

        Yields:
            One :class:`~mtdnn.types.Example` per non-empty line.

        Raises:
            DataError: A line is not valid JSON or lacks a field, a label is not ``e``, ``n`` or
                ``c``, a uid repeats, or the file is empty; the message names the file and line.
        """
        path = Path(path)
        file = str(path)
        seen: set[str] = set()
        for line, record in json_records(path):
            raw = record_text(record, "label", file, line)
            label = _LABELS.get(raw)
            if label is None:
                raise DataError(f"label {raw!r} is not one of {list(_LABELS)}", file=file, line=line)
            uid = record_text(record, "uid", file, line)
            if uid in seen:
                raise DataError(f"duplicate uid {uid!r}", file=file, line=line)
            seen.add(uid)
            yield Example(
                id=uid,
                text_a=record_text(record, "context", file, line),
                text_b=record_text(record, "hypothesis", file, line),
                label=label,
            )
        if not seen:
            raise DataError("the file holds no examples", file=file)
        logger.debug("read %d ANLI examples from %s", len(seen), file)
