"""Token ids for encoders without a tokenizer of their own: spaCy words or a Hugging Face tokenizer."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from mtdnn.errors import ConfigurationError

__all__ = ["SPECIALS", "VOCABULARY_FILE", "HuggingFaceIds", "TokenIds", "WordIds"]

logger = logging.getLogger(__name__)

SPECIALS = ("<pad>", "<unk>", "<sep>", "<mask>")
"""The first ids of every word vocabulary: padding, unknown words, the pair separator, the masked-LM mask."""

VOCABULARY_FILE = "vocab.json"


class TokenIds:
    """Turns texts into token ids (no special tokens added) and knows the special ids.

    Attributes:
        pad_id: Padding.
        unk_id: A token outside the vocabulary (also the content of an empty text).
        sep_id: The separator between the two texts of a pair.
        mask_id: The mask token of masked-LM, or ``None`` if there is none.
        special_ids: The ids that are not words (never masked or predicted by masked-LM).
    """

    pad_id: int
    unk_id: int
    sep_id: int
    mask_id: int | None
    special_ids: frozenset[int]

    def __len__(self) -> int:
        """The number of ids (the rows an embedding table needs)."""
        raise NotImplementedError

    def encode(self, texts: Sequence[str], *, max_length: int) -> list[list[int]]:
        """The ids of each text, at most ``max_length`` of them."""
        raise NotImplementedError

    def pieces(self, texts: Sequence[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        """The ids of each text (not truncated) with the character span of every token."""
        raise NotImplementedError

    def vocabulary(self) -> dict[str, int]:
        """Token -> id: two objects with equal vocabularies give the same ids."""
        raise NotImplementedError

    def save(self, directory: Path) -> None:
        """Write what rebuilds these ids into ``directory``."""
        raise NotImplementedError


class WordIds(TokenIds):
    """Words from spaCy's rule-based English tokenizer (``spacy.blank("en")``), looked up in a vocabulary.

    Whitespace tokens are dropped; a word missing from the vocabulary gets the ``<unk>`` id.

    Args:
        words: The vocabulary in id order; it starts with :data:`SPECIALS`.
        lowercase: Lower-case words before looking them up.

    Raises:
        ConfigurationError: spaCy is not installed, or ``words`` is not a valid vocabulary.
    """

    def __init__(self, words: Sequence[str] = SPECIALS, *, lowercase: bool = True) -> None:
        if tuple(words[: len(SPECIALS)]) != SPECIALS:
            raise ConfigurationError(
                f"a vocabulary must start with {list(SPECIALS)}, got {list(words[: len(SPECIALS)])}",
                path="vocabulary",
            )
        index = {word: i for i, word in enumerate(words)}
        if len(index) != len(words):
            raise ConfigurationError("the vocabulary has duplicate words", path="vocabulary")
        self.words = list(words)
        self.index = index
        self.lowercase = lowercase
        self.pad_id, self.unk_id, self.sep_id, self.mask_id = range(len(SPECIALS))
        self.special_ids = frozenset(range(len(SPECIALS)))
        self._tokenizer = _english_tokenizer()

    @classmethod
    def from_texts(
        cls, texts: Iterable[str], *, lowercase: bool = True, min_count: int = 1, max_size: int | None = None
    ) -> WordIds:
        """Build the vocabulary of ``texts``: the specials, then words by falling count (ties: first seen).

        Args:
            texts: The texts to count words in (e.g. every training text of every task).
            lowercase: Lower-case words before counting and looking them up.
            min_count: Words seen fewer times get the ``<unk>`` id.
            max_size: Keep at most this many words besides the specials.

        Raises:
            ConfigurationError: No word is left (no texts, or ``min_count`` too high).
        """
        ids = cls(lowercase=lowercase)
        counts: Counter[str] = Counter()
        for words in ids.tokenize(texts):
            counts.update(words)
        kept = [word for word, count in counts.most_common() if count >= min_count and word not in ids.index]
        if not kept:
            raise ConfigurationError(
                f"the training data gives an empty vocabulary ({len(counts)} distinct words, "
                f"none seen {min_count} times)",
                hint="lower min_count, or check that the tasks have training files",
            )
        kept = kept[:max_size]
        logger.info("vocabulary: %d of %d distinct words (min_count %d)", len(kept), len(counts), min_count)
        ids.words = [*SPECIALS, *kept]
        ids.index = {word: i for i, word in enumerate(ids.words)}
        return ids

    @classmethod
    def load(cls, path: Path, *, lowercase: bool = True) -> WordIds:
        """Read the vocabulary that :meth:`save` wrote (``path`` is the file or its folder).

        Raises:
            ConfigurationError: There is no such file, or it is not a JSON list of words.
        """
        file = path / VOCABULARY_FILE if path.is_dir() else path
        if not file.is_file():
            raise ConfigurationError(
                f"no vocabulary at {str(path)!r}",
                path="vocabulary",
                hint=f"give a {VOCABULARY_FILE} file or a folder holding one (a run's model/encoder)",
            )
        words = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(words, list) or not all(isinstance(word, str) for word in words):
            raise ConfigurationError(f"{str(file)!r} is not a JSON list of words", path="vocabulary")
        return cls(words, lowercase=lowercase)

    def __len__(self) -> int:
        """The vocabulary size, specials included."""
        return len(self.words)

    def tokenize(self, texts: Iterable[str]) -> Iterator[list[str]]:
        """The words of each text (lower-cased if so configured), without whitespace tokens."""
        for doc in self._tokenizer.pipe(texts, batch_size=1000):
            words = [token.text for token in doc if not token.is_space]
            yield [word.lower() for word in words] if self.lowercase else words

    def encode(self, texts: Sequence[str], *, max_length: int) -> list[list[int]]:
        """The word ids of each text, ``<unk>`` for words outside the vocabulary."""
        return [
            [self.index.get(word, self.unk_id) for word in words[:max_length]]
            for words in self.tokenize(texts)
        ]

    def pieces(self, texts: Sequence[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        """The word ids of each text with each word's character span."""
        result = []
        for doc in self._tokenizer.pipe(texts, batch_size=1000):
            tokens = [token for token in doc if not token.is_space]
            words = [token.text.lower() if self.lowercase else token.text for token in tokens]
            ids = [self.index.get(word, self.unk_id) for word in words]
            result.append((ids, [(token.idx, token.idx + len(token.text)) for token in tokens]))
        return result

    def vocabulary(self) -> dict[str, int]:
        """Word -> id."""
        return dict(self.index)

    def save(self, directory: Path) -> None:
        """Write the words in id order to ``vocab.json``."""
        directory.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.words, ensure_ascii=False, indent=0)
        (directory / VOCABULARY_FILE).write_text(text + "\n", encoding="utf-8")


class HuggingFaceIds(TokenIds):
    """The ids of a Hugging Face tokenizer, loaded offline from a folder.

    The separator is the tokenizer's ``sep`` token (else its ``eos`` token); a text without
    tokens gets its ``unk`` token (else the separator).

    Args:
        folder: A folder with the tokenizer files (a model folder, or one written by :meth:`save`).

    Raises:
        ConfigurationError: The folder holds no tokenizer, or it has no pad or separator token.
    """

    def __init__(self, folder: Path) -> None:
        from transformers import AutoTokenizer

        hint = (
            "give 'words', a registered pretrained name (`mtdnn registry list --kind pretrained`) or a folder"
        )
        if not folder.is_dir():
            raise ConfigurationError(
                f"tokenizer {str(folder)!r} is neither 'words' nor a folder",
                path="tokenizer",
                hint=hint,
            )
        try:
            self.tokenizer: Any = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"no Hugging Face tokenizer in {str(folder)!r}: {exc}", path="tokenizer", hint=hint
            ) from exc
        self.folder = folder
        sep = self.tokenizer.sep_token_id
        sep = self.tokenizer.eos_token_id if sep is None else sep
        pad = self.tokenizer.pad_token_id
        if sep is None or pad is None:
            raise ConfigurationError(
                f"the tokenizer in {str(folder)!r} has no {'separator' if sep is None else 'pad'} token",
                path="tokenizer",
            )
        unk, mask = self.tokenizer.unk_token_id, self.tokenizer.mask_token_id
        self.pad_id, self.sep_id = int(pad), int(sep)
        self.unk_id = int(unk) if unk is not None else self.sep_id
        self.mask_id = int(mask) if mask is not None else None
        self.special_ids = frozenset(int(i) for i in self.tokenizer.all_special_ids)

    def __len__(self) -> int:
        """The tokenizer's size, added tokens included."""
        return len(self.tokenizer)

    def encode(self, texts: Sequence[str], *, max_length: int) -> list[list[int]]:
        """The tokenizer's ids of each text, without special tokens."""
        if not texts:
            return []
        encoded = self.tokenizer(
            list(texts), add_special_tokens=False, truncation=True, max_length=max_length
        )
        return [list(ids) for ids in encoded["input_ids"]]

    def pieces(self, texts: Sequence[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        """The tokenizer's ids of each text, without special tokens, with their character offsets."""
        if not texts:
            return []
        encoded = self.tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True)
        return [
            (list(ids), [(int(a), int(b)) for a, b in offsets])
            for ids, offsets in zip(encoded["input_ids"], encoded["offset_mapping"], strict=True)
        ]

    def vocabulary(self) -> dict[str, int]:
        """The tokenizer's vocabulary, added tokens included."""
        vocabulary: dict[str, int] = self.tokenizer.get_vocab()
        return vocabulary

    def save(self, directory: Path) -> None:
        """Write the tokenizer files."""
        directory.mkdir(parents=True, exist_ok=True)
        self.tokenizer.save_pretrained(str(directory))


def _english_tokenizer() -> Any:
    """spaCy's rule-based English tokenizer.

    Raises:
        ConfigurationError: spaCy is not installed.
    """
    try:
        import spacy
    except ImportError as exc:
        raise ConfigurationError(
            "the 'words' tokenizer needs spaCy, which is not installed",
            path="tokenizer",
            hint="pip install 'mtdnn[lstm]', or give a Hugging Face tokenizer",
        ) from exc
    return spacy.blank("en").tokenizer
