"""Raw text into words, with spaCy's tokenizer (sequence labelling of raw text)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mtdnn.errors import ConfigurationError

__all__ = ["spacy_words"]


def spacy_words(texts: Sequence[str], pipeline: str = "blank:en") -> list[list[tuple[str, int]]]:
    """Split texts into words with spaCy: ``(word, character offset)`` for each non-space token.

    Args:
        texts: Raw texts.
        pipeline: ``blank:LANG`` for spaCy's rule-based tokenizer of a language (no model needed),
            or the name or path of an installed spaCy pipeline, whose tokenizer is then used.

    Raises:
        ConfigurationError: spaCy or the named pipeline is not installed.
    """
    try:
        import spacy
    except ImportError as exc:
        raise ConfigurationError(
            "tagging raw text needs spaCy, which is not installed", hint="pip install spacy"
        ) from exc
    if pipeline.startswith("blank:"):
        nlp = spacy.blank(pipeline.removeprefix("blank:"))
    else:
        try:
            nlp = spacy.load(pipeline, exclude=["tagger", "parser", "ner", "lemmatizer", "textcat"])
        except OSError as exc:
            raise ConfigurationError(
                f"no spaCy pipeline {pipeline!r} is installed", hint="use 'blank:en', or install the pipeline"
            ) from exc
    tokenizer: Any = nlp.tokenizer
    return [
        [(token.text, token.idx) for token in doc if not token.is_space]
        for doc in tokenizer.pipe(texts, batch_size=256)
    ]
