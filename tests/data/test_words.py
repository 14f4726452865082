"""Words to sub-words, windows over long sentences, and the window that predicts each word."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtdnn.data.words import best_windows, cut_windows, word_pieces
from mtdnn.encoders import HuggingFaceEncoder
from tests.encoders.families import FAMILIES

WORDS = ["Germline", "mutations", "in", "BRCA1", "cause", "naïve", "IL-2", "deficiency", "."]


def test_each_word_gets_the_tokens_of_its_own_characters(tiny_bert: Path) -> None:
    encoder = HuggingFaceEncoder(str(tiny_bert))
    [pieces] = word_pieces(encoder, [WORDS])
    assert len(pieces) == len(WORDS)
    for word, ids in zip(WORDS, pieces, strict=True):
        alone = encoder.tokenizer(word, add_special_tokens=False)["input_ids"]
        assert ids == alone, word
    assert len(pieces[6]) > 1  # IL-2 is several word pieces: il, -, 2


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_gives_every_word_at_least_one_token_in_text_order(
    family_dirs: dict[str, Path], family: str
) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs[family]))
    text = " ".join(WORDS)
    [pieces] = word_pieces(encoder, [WORDS])
    assert all(pieces)
    (whole,) = encoder.tokenize([text])
    assert [token for ids in pieces for token in ids] == list(whole.ids)


def test_a_word_without_tokens_gets_the_unknown_id(tiny_bert: Path) -> None:
    encoder = HuggingFaceEncoder(str(tiny_bert))
    # BERT's normaliser deletes control characters, so "\x07" alone has no token at all
    [pieces] = word_pieces(encoder, [["fever", "\x07", "cough"]])
    assert pieces[1] == [encoder.unknown_id]
    assert pieces[0] == encoder.tokenizer("fever", add_special_tokens=False)["input_ids"]


def test_windows_fill_the_budget_with_whole_words_and_overlap() -> None:
    lengths = [1, 2, 1, 3, 1, 1, 2, 1]  # 12 sub-words
    # budget 5: [0, 3) = 4 sub-words (the 3-piece word does not fit); the next window starts back
    # as far as 2 sub-words of overlap allow: word 2 (1 piece), not word 1 (1 + 2 > 2)
    assert cut_windows(lengths, 5, 2) == [(0, 3), (2, 5), (4, 8)]
    assert cut_windows(lengths, 12, 4) == [(0, 8)]
    assert cut_windows(lengths, 4, 0) == [(0, 3), (3, 5), (5, 8)]


def test_windows_always_advance_and_cover_every_word() -> None:
    lengths = [3, 3, 3, 3, 3]
    windows = cut_windows(lengths, 3, 10)  # the overlap can never hold a whole previous window
    assert windows == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    with pytest.raises(ValueError, match="more than 3 sub-words"):
        cut_windows([4], 3, 0)


def test_each_word_is_predicted_by_the_window_where_it_has_most_context() -> None:
    lengths = [1] * 10
    windows = cut_windows(lengths, 6, 3)
    assert windows == [(0, 6), (3, 9), (6, 10)]
    owners = best_windows(lengths, windows)
    # word 3: context 2 in window 0 (3 before, 2 after), 0 in window 1 -> window 0;
    # word 4: 1 in window 0, 1 in window 1 -> the earlier; word 5: 0 vs 2 -> window 1
    assert owners == [0, 0, 0, 0, 0, 1, 1, 1, 2, 2]
