"""Entities of a tagged sentence: tag sequences to typed spans, with character offsets in the text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Entity", "entity_records", "entity_spans", "tagging_record", "word_entities", "word_offsets"]


@dataclass(frozen=True)
class Entity:
    """An entity found in a text.

    Args:
        label: The entity type (``Disease``).
        start: Character offset of its first character in the text.
        end: Character offset just past its last character.
        text: ``text[start:end]``.
        words: The ``(first, last + 1)`` word indices it covers.
    """

    label: str
    start: int
    end: int
    text: str
    words: tuple[int, int]


def entity_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """The entities of a tag sequence as ``(type, first word, last word + 1)``.

    Entities are read as seqeval's default mode (and ``conlleval``) reads them, so they are the
    entities the ``seqeval`` metric scores; IOB1, IOB2 and IOBES tags are understood.
    """
    from seqeval.metrics.sequence_labeling import get_entities

    return [(kind, start, end + 1) for kind, start, end in get_entities(list(tags))]


def word_offsets(text: str, words: Sequence[str]) -> list[tuple[str, int]] | None:
    """Each word with its character offset in ``text``, found in order; ``None`` if one is missing.

    Words split from the text (spaCy tokens, or the words joined by spaces) are always found.
    """
    found: list[tuple[str, int]] = []
    position = 0
    for word in words:
        start = text.find(word, position)
        if start < 0:
            return None
        found.append((word, start))
        position = start + len(word)
    return found


def word_entities(text: str, words: Sequence[tuple[str, int]], tags: Sequence[str]) -> list[Entity]:
    """The entities of one text from its words (with character offsets) and their tags."""
    found = []
    for kind, first, last in entity_spans(tags):
        start = words[first][1]
        end = words[last - 1][1] + len(words[last - 1][0])
        found.append(Entity(label=kind, start=start, end=end, text=text[start:end], words=(first, last)))
    return found


def entity_records(entities: Sequence[Entity]) -> list[dict[str, Any]]:
    """JSON-ready ``{"start", "end", "label", "text"}`` objects."""
    return [{"start": e.start, "end": e.end, "label": e.label, "text": e.text} for e in entities]


def tagging_record(text: str, words: Sequence[str], tags: Sequence[str]) -> dict[str, Any]:
    """A tagged text as ``mtdnn predict`` writes it: ``text``, ``entities``, ``words`` and ``tags``.

    Entities are found only when the words occur in the text in order (as spaCy splits it).
    """
    located = word_offsets(text, words)
    entities = word_entities(text, located, tags) if located is not None else []
    return {"text": text, "entities": entity_records(entities), "words": list(words), "tags": list(tags)}
