"""Sequence-labelling files: IOB/IOBES token-per-line TSV and CoNLL column files."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal, get_args

from mtdnn.errors import ConfigurationError, DataError
from mtdnn.readers.base import Reader
from mtdnn.readers.files import text_lines
from mtdnn.types import Example

__all__ = ["ConllReader", "IobReader", "Scheme", "scheme_labels"]

Scheme = Literal["IOB1", "IOB2", "IOBES"]

_PREFIXES: dict[str, tuple[str, ...]] = {
    "IOB1": ("I", "B"),
    "IOB2": ("B", "I"),
    "IOBES": ("B", "I", "E", "S"),
}
OUTSIDE = "O"
DOCSTART = "-DOCSTART-"
_BLANKS = re.compile(r"[ \t]+")
"""What separates columns without a ``separator``: spaces and tabs, not other Unicode spaces."""


def scheme_labels(scheme: Scheme, types: Sequence[str]) -> list[str]:
    """Every label of ``scheme`` over entity ``types``: ``O``, then each sorted type's prefixes.

    >>> scheme_labels("IOB2", ["Disease", "Chemical"])
    ['O', 'B-Chemical', 'I-Chemical', 'B-Disease', 'I-Disease']
    """
    return [OUTSIDE, *(f"{prefix}-{kind}" for kind in sorted(set(types)) for prefix in _PREFIXES[scheme])]


class ConllReader(Reader):
    """CoNLL-style column files: one token per line, blank lines between sentences.

    Each sentence becomes one example with ``words`` and ``tags`` (``text_a`` is the words joined
    by spaces); its id is the 1-based number of the sentence in the file. Lines of the
    ``-DOCSTART-`` document marker end a sentence and are skipped. The tags are checked against the
    declared ``scheme`` (an ``I-X`` of IOB2 must follow ``B-X`` or ``I-X``, and so on), so a file
    in another scheme fails with its file and line instead of training on misread entities.

    The label vocabulary is every label of the scheme over the entity types, ``O`` first: the
    types come from ``types``, or are collected from the file ``labels_from`` (usually the
    training file), so that labels come from the data and a label the training data lacks (e.g.
    ``S-X``) still has an id.

    Args:
        scheme: The tagging scheme: ``IOB1``, ``IOB2`` or ``IOBES``.
        types: The entity types (e.g. ``["Chemical", "Disease"]``).
        labels_from: A file in this format whose entity types make the labels.
        token_column: Column of the token (0-based; negative counts from the end).
        label_column: Column of the tag; ``None`` for unlabelled files (only tokens).
        separator: Column separator; ``None`` splits on any run of whitespace.
        columns: The number of columns every non-blank line must have (``None``: any).
        validate: Check every tag sequence against ``scheme``.
    """

    def __init__(
        self,
        *,
        scheme: Scheme = "IOB2",
        types: list[str] | None = None,
        labels_from: str | None = None,
        token_column: int = 0,
        label_column: int | None = -1,
        separator: str | None = None,
        columns: int | None = None,
        validate: bool = True,
    ) -> None:
        if scheme not in get_args(Scheme):
            raise ConfigurationError(
                f"scheme must be one of {list(get_args(Scheme))}, got {scheme!r}", path="scheme"
            )
        if types is None and labels_from is None:
            raise ConfigurationError(
                "give the entity types as 'types', or a file to collect them from ('labels_from'), or "
                "both (the file's tags are then checked against the types)",
                hint="e.g. labels_from: the training file",
            )
        self.scheme: Scheme = scheme
        self.columns = columns
        self.token_column = token_column
        self.label_column = label_column
        self.separator = separator
        self.validate = validate
        if labels_from is not None:
            if label_column is None:
                raise ConfigurationError("labels_from needs a label_column", path="labels_from")
            found = self._types_in(labels_from)
            if types is None:
                types = sorted(found)
            elif not set(found) <= set(types):  # a typo'd tag would become a new entity type
                kind = min(set(found) - set(types))
                where = found[kind]
                raise DataError(
                    f"sentence {where[0]}, word {where[1]!r}: the entity type {kind!r} is not one of the "
                    f"declared types {sorted(types)}",
                    file=str(labels_from),
                )
        assert types is not None
        self._labels = scheme_labels(scheme, types)

    def _types_in(self, path: str) -> dict[str, tuple[str, str]]:
        """Each entity type in a file's tags, with the sentence and word where it first appears."""
        found: dict[str, tuple[str, str]] = {}
        for example in self.read(path):
            for word, tag in zip(example.words or (), example.tags or (), strict=True):
                kind = _entity_type(tag)
                if kind and kind not in found:
                    found[kind] = (example.id, word)
        return found

    @property
    def pairs(self) -> bool | None:
        """One sentence (split into words) per example."""
        return False

    @property
    def labels(self) -> list[str]:
        """``O``, then the scheme's prefixes for each entity type (sorted)."""
        return self._labels

    def read(self, path: str | Path) -> Iterator[Example]:
        """Yield one example per sentence, in file order.

        Raises:
            DataError: A line lacks the token or tag column, or a tag breaks the scheme.
        """
        words: list[str] = []
        tags: list[str] = []
        lines: list[int] = []
        count = 0
        for number, line in text_lines(path):
            columns = self._columns(line)
            if columns and self.columns is not None and len(columns) != self.columns:
                raise DataError(
                    f"expected {self.columns} columns separated by {self.separator!r}, found {len(columns)}",
                    file=str(path),
                    line=number,
                )
            if not columns or columns[0] == DOCSTART:
                if words:
                    count += 1
                    yield self._example(count, words, tags, lines, str(path))
                words, tags, lines = [], [], []
                continue
            try:
                words.append(columns[self.token_column])
                if self.label_column is not None:
                    tags.append(columns[self.label_column])
            except IndexError:
                raise DataError(
                    f"expected a token in column {self.token_column} and a tag in column "
                    f"{self.label_column}, found {len(columns)} column(s)",
                    file=str(path),
                    line=number,
                ) from None
            lines.append(number)
        if words:
            yield self._example(count + 1, words, tags, lines, str(path))

    def _columns(self, line: str) -> list[str]:
        if not line.strip():
            return []
        if self.separator is not None:
            return line.split(self.separator)
        return [column for column in _BLANKS.split(line) if column]  # a no-break space stays in its token

    def _example(
        self, number: int, words: list[str], tags: list[str], lines: list[int], source: str
    ) -> Example:
        if self.label_column is None:
            return Example(id=str(number), text_a=" ".join(words), words=tuple(words))
        if self.validate:
            check_scheme(tags, self.scheme, lines=lines, source=source)
        return Example(id=str(number), text_a=" ".join(words), words=tuple(words), tags=tuple(tags))


class IobReader(ConllReader):
    """The IOB/IOBES TSV of the biomedical NER corpora: ``token<TAB>tag`` lines, blank between sentences.

    The same as :class:`ConllReader` with exactly two tab-separated columns; a line with another
    number of columns is an error (file and line in the message).

    Args:
        scheme: The tagging scheme: ``IOB1``, ``IOB2`` or ``IOBES``.
        types: The entity types.
        labels_from: A file whose entity types make the labels (usually the training file).
        validate: Check every tag sequence against ``scheme``.
    """

    def __init__(
        self,
        *,
        scheme: Scheme = "IOB2",
        types: list[str] | None = None,
        labels_from: str | None = None,
        validate: bool = True,
    ) -> None:
        super().__init__(
            columns=2,
            scheme=scheme,
            types=types,
            labels_from=labels_from,
            token_column=0,
            label_column=1,
            separator="\t",
            validate=validate,
        )


def _entity_type(tag: str) -> str:
    """The entity type of a tag (``""`` for ``O``)."""
    return "" if tag == OUTSIDE else tag.partition("-")[2]


def check_scheme(tags: Sequence[str], scheme: Scheme, *, lines: Sequence[int], source: str) -> None:
    """Raise a :class:`DataError` at the first tag that ``scheme`` does not allow where it stands.

    Args:
        tags: One sentence's tags.
        scheme: ``IOB1``, ``IOB2`` or ``IOBES``.
        lines: The file line of each tag, for the message.
        source: The file, for the message.
    """
    previous = OUTSIDE
    for index, tag in enumerate(tags):
        prefix, _, kind = tag.partition("-")
        problem = None
        if tag != OUTSIDE and (prefix not in _PREFIXES[scheme] or not kind):
            problem = f"is not a {scheme} tag (expected O or {'/'.join(_PREFIXES[scheme])}-TYPE)"
        else:
            problem = _transition_problem(previous, tag, scheme)
        if problem is not None:
            raise DataError(f"tag {tag!r} after {previous!r} {problem}", file=source, line=lines[index])
        previous = tag
    if scheme == "IOBES" and previous[:2] in ("B-", "I-"):
        raise DataError(f"the sentence ends inside an entity ({previous!r})", file=source, line=lines[-1])


def _transition_problem(previous: str, tag: str, scheme: Scheme) -> str | None:
    """Why ``tag`` may not follow ``previous`` under ``scheme`` (``None`` if it may)."""
    before, _, before_type = previous.partition("-")
    prefix, _, kind = tag.partition("-")
    inside = before in ("B", "I") and before_type == kind
    if scheme == "IOB2" and prefix == "I" and not inside:
        return "breaks IOB2: I-X must continue a B-X or I-X"
    if scheme == "IOB1" and prefix == "B" and not inside:
        return "breaks IOB1: B-X only separates two adjacent X entities"
    if scheme == "IOBES":
        open_entity = before in ("B", "I")
        if prefix in ("I", "E") and not inside:
            return f"breaks IOBES: {prefix}-X must continue a B-X or I-X"
        if prefix not in ("I", "E") and open_entity:
            return f"breaks IOBES: {previous!r} must be continued by I- or E-{before_type}"
    return None
