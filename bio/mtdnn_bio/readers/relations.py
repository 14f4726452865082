"""Readers for biomedical relation classification: ChemProt (JSON lines) and GAD / EU-ADR (TSV)."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mtdnn.errors import DataError
from mtdnn.readers.base import Reader
from mtdnn.readers.files import parse_json, text_lines
from mtdnn.types import Example

__all__ = ["CHEMPROT_LABELS", "BioRelationReader", "ChemProtReader"]

logger = logging.getLogger(__name__)

CHEMPROT_LABELS: tuple[str, ...] = (
    "ACTIVATOR",
    "AGONIST",
    "AGONIST-ACTIVATOR",
    "AGONIST-INHIBITOR",
    "ANTAGONIST",
    "DOWNREGULATOR",
    "INDIRECT-DOWNREGULATOR",
    "INDIRECT-UPREGULATOR",
    "INHIBITOR",
    "PRODUCT-OF",
    "SUBSTRATE",
    "SUBSTRATE_PRODUCT-OF",
    "UPREGULATOR",
)
"""The 13 fine-grained ChemProt relations of SciBERT's training file, sorted (an id is a position)."""

_BINARY = ("0", "1")
_HEADER = ("index", "sentence", "label")


class ChemProtReader(Reader):
    """Reads SciBERT's ChemProt files: one JSON object ``{"text", "label", "metadata"}`` per line.

    Each line becomes ``Example(id=<file stem>-<line number>, text_a=<text>, label=<label>)``,
    e.g. ``train-17``; ``metadata`` is ignored (it is empty in this release, so the line is the
    only stable key). The text is kept exactly as given, entity markers included: ``<< ... >>``
    marks the argument that comes first in the sentence and ``[[ ... ]]`` the second (in this
    release either can be the chemical or the gene/protein). The markers are the only thing that
    tells the model which entity pair a line asks about, so the reader offers no option to drop
    them; replacing them with other strings is not offered either, because the same character
    pairs occur inside chemical names (``[[(3-iodophenyl)methyl]amino]``, ``AS-8112>>metoclopramide``)
    and a rewrite could not always tell marker from name.

    Labels come from the fixed, sorted :data:`CHEMPROT_LABELS` (not from the file), so train,
    dev and test map a label to the same id even though dev and test lack some labels. This
    release has no "no relation" class. A line without a ``label`` key is unlabelled (label
    ``None``). Blank lines are skipped.
    """

    @property
    def pairs(self) -> bool | None:
        """One sentence with its entities marked."""
        return False

    @property
    def labels(self) -> list[str]:
        """The 13 ChemProt relation labels, sorted."""
        return list(CHEMPROT_LABELS)

    def read(self, path: str | Path) -> Iterator[Example]:
        """Yield the examples of one ChemProt JSON-lines file in file order.

        Args:
            path: A ChemProt ``.txt`` / ``.jsonl`` file (UTF-8).

        Yields:
            One :class:`~mtdnn.types.Example` per non-blank line.

        Raises:
            DataError: A line is not a JSON object, lacks a string ``text``, has a label that
                is not one of the 13 ChemProt labels, or the file holds no example; the message
                names the file and line.
        """
        path = Path(path)
        file = str(path)
        count = 0
        for number, raw in text_lines(path):
            if not raw.strip():
                continue
            record = _json_object(raw, file, number)
            text = record.get("text")
            if not isinstance(text, str) or not text.strip():
                raise DataError(
                    f"expected a non-empty string under 'text', got {text!r}", file=file, line=number
                )
            label = _chemprot_label(record.get("label"), "label" in record, file, number)
            count += 1
            yield Example(id=f"{path.stem}-{number}", text_a=text.strip(), label=label)
        if count == 0:
            raise DataError("the file holds no examples", file=file)
        logger.debug("read %d ChemProt examples from %s", count, file)


class BioRelationReader(Reader):
    """Reads BioBERT's binary relation files (GAD, EU-ADR), whose layout differs between splits.

    A file whose first line is a header made of ``index``, ``sentence`` and (optionally)
    ``label`` (BioBERT's ``test.tsv``) is read by those column names; a file without a header
    (``train.tsv``) has two columns ``sentence<TAB>label``. The layout is detected per file from
    its first non-blank line. The entities are already anonymised as ``@GENE$`` and
    ``@DISEASE$``; sentences are stripped of surrounding whitespace and otherwise kept. Labels
    are ``"0"`` (no association) and ``"1"``. A headed file without a ``label`` column yields
    unlabelled examples. Each example id is the file stem joined by ``-`` to the ``index``
    column, or, without one, to the 1-based position of the row among the data rows
    (``train-17``). Blank lines are skipped.
    """

    @property
    def pairs(self) -> bool | None:
        """One sentence with its entities marked."""
        return False

    @property
    def labels(self) -> list[str]:
        """``["0", "1"]``: no association, association."""
        return list(_BINARY)

    def read(self, path: str | Path) -> Iterator[Example]:
        """Yield the examples of one GAD or EU-ADR file in file order.

        Args:
            path: A BioBERT RE ``train.tsv`` (no header) or ``test.tsv`` (header) file.

        Yields:
            One :class:`~mtdnn.types.Example` per non-blank data line.

        Raises:
            DataError: A row has the wrong number of columns, an empty sentence, a label other
                than ``0`` or ``1``, or a repeated id, or the file holds no data row; the
                message names the file and line.
        """
        path = Path(path)
        file = str(path)
        seen: set[str] = set()
        columns: dict[str, int] | None = None
        count = 0
        for number, text in text_lines(path):
            if not text.strip():
                continue
            fields = text.split("\t")
            if columns is None:
                columns = _header(fields)
                if columns is not None:
                    continue
                columns = {"sentence": 0, "label": 1}
            example = _relation_example(fields, columns, path.stem, count + 1, file, number)
            if example.id in seen:
                raise DataError(f"duplicate example id {example.id!r}", file=file, line=number)
            seen.add(example.id)
            count += 1
            yield example
        if count == 0:
            raise DataError("the file holds no data rows", file=file)
        logger.debug("read %d relation examples from %s", count, file)


def _json_object(raw: str, file: str, line: int) -> dict[str, Any]:
    """Decode one JSON line that must hold an object."""
    record = parse_json(raw, file=file, line=line)
    if not isinstance(record, dict):
        raise DataError(f"expected a JSON object, got {type(record).__name__}", file=file, line=line)
    return record


def _chemprot_label(value: Any, present: bool, file: str, line: int) -> str | None:
    """Check one ChemProt label against the fixed vocabulary (``None`` when the key is absent)."""
    if not present:
        return None
    if isinstance(value, str) and value in CHEMPROT_LABELS:
        return value
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value.upper(), CHEMPROT_LABELS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
    raise DataError(
        f"label {value!r} is not one of the ChemProt labels {list(CHEMPROT_LABELS)}{hint}",
        file=file,
        line=line,
    )


def _header(first: list[str]) -> dict[str, int] | None:
    """Column positions named by a file's first line, or ``None`` when that line is data."""
    names = [cell.strip() for cell in first]
    if "sentence" in names and set(names) <= set(_HEADER) and len(set(names)) == len(names):
        return {name: position for position, name in enumerate(names)}
    return None


def _relation_example(
    fields: list[str], columns: dict[str, int], stem: str, row: int, file: str, line: int
) -> Example:
    """Turn one data row into an example, checking its width, sentence and label."""
    if len(fields) != len(columns):
        layout = "\t".join(sorted(columns, key=columns.__getitem__))
        raise DataError(
            f"expected {len(columns)} tab-separated columns ({layout}), found {len(fields)}",
            file=file,
            line=line,
        )
    sentence = fields[columns["sentence"]].strip()
    if not sentence:
        raise DataError("the sentence is empty", file=file, line=line)
    key = fields[columns["index"]].strip() if "index" in columns else str(row)
    label: str | None = None
    if "label" in columns:
        label = fields[columns["label"]].strip()
        if label not in _BINARY:
            raise DataError(f"label {label!r} is not one of {list(_BINARY)}", file=file, line=line)
    return Example(id=f"{stem}-{key}", text_a=sentence, label=label)
