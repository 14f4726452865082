"""Where a tokenizer puts its special tokens and token types around one sequence or a pair."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Layout", "read_layout"]


@dataclass(frozen=True)
class Layout:
    """A tokenizer's layout: special tokens (id, token type) around each sequence, and each one's type.

    ``parts[0]`` holds the specials before the first sequence; ``parts[i]`` for ``i >= 1`` the
    type of sequence ``i`` and the specials that follow it.
    """

    parts: tuple[tuple[tuple[tuple[int, int], ...], int], ...]
    has_types: bool

    def build(
        self, first: Sequence[int], second: Sequence[int] | None = None
    ) -> tuple[dict[str, list[int]], int, int | None]:
        """``input_ids``, ``attention_mask`` and (where the tokenizer has them) ``token_type_ids``.

        Returns:
            The features, and the input positions of ``first[0]`` and ``second[0]`` (``None``
            without a second sequence); the tokens of each sequence stay contiguous.
        """
        ids: list[int] = []
        types: list[int] = []
        starts: list[int] = []
        for part, (specials, segment_type) in enumerate(self.parts):
            if part > 0:
                starts.append(len(ids))
                tokens = list(first if part == 1 else second or [])
                ids += tokens
                types += [segment_type] * len(tokens)
            ids += [token for token, _ in specials]
            types += [token_type for _, token_type in specials]
        features = {"input_ids": ids, "attention_mask": [1] * len(ids)}
        if self.has_types:
            features["token_type_ids"] = types
        return features, starts[0], starts[1] if len(starts) > 1 else None


def read_layout(
    ids: Sequence[int], types: Sequence[int] | None, sequences: Sequence[int | None], *, pair: bool
) -> Layout | None:
    """The layout of a tokenizer, from its encoding (with special tokens) of ``"a"`` or ``"a", "b"``.

    Args:
        ids: The encoding's token ids.
        types: Its token types; ``None`` where the tokenizer makes none.
        sequences: Which sequence each token belongs to (``None`` for special tokens).
        pair: Whether the encoding is of a pair.

    Returns:
        The layout, or ``None`` where the encoding does not show one (not one run of tokens per
        sequence).
    """
    token_types = list(types) if types is not None else [0] * len(ids)
    parts: list[tuple[list[tuple[int, int]], int]] = [([], 0)]
    previous: int | None = None
    for token, token_type, sequence in zip(ids, token_types, sequences, strict=True):
        if sequence is None:
            parts[-1][0].append((int(token), int(token_type)))
        elif sequence != previous:
            parts.append(([], int(token_type)))
        if sequence is not None:
            previous = sequence
    if len(parts) != (3 if pair else 2):
        return None
    return Layout(
        parts=tuple((tuple(specials), segment_type) for specials, segment_type in parts),
        has_types=types is not None,
    )
