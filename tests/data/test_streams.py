"""Endless per-task batch streams: a pure function of the seed and the index, reshuffled each round."""

from __future__ import annotations

import pytest
import torch

from mtdnn.data import batch_indices
from mtdnn.data.streams import BatchStream

LENGTHS = [(i * 37) % 50 + 1 for i in range(70)]  # 70 examples -> 9 batches of 8


def test_round_zero_is_the_usual_epoch_order_and_later_rounds_reshuffle() -> None:
    stream = BatchStream(LENGTHS, 8, seed=123)
    usual = batch_indices(LENGTHS, 8, generator=torch.Generator().manual_seed(123))
    assert len(stream) == 9
    assert [stream[i] for i in range(9)] == usual
    for round_ in (1, 2, 7):
        batches = [stream[round_ * 9 + i] for i in range(9)]
        assert sorted(i for batch in batches for i in batch) == list(range(70))  # every example once
        assert batches != usual


def test_a_batch_depends_only_on_the_seed_and_its_index() -> None:
    forward = BatchStream(LENGTHS, 8, seed=5)
    expected = [forward[i] for i in range(40)]
    jumping = BatchStream(LENGTHS, 8, seed=5)  # a resumed run jumps straight to its cursors
    assert [jumping[i] for i in (31, 2, 20, 39, 0, 10)] == [expected[i] for i in (31, 2, 20, 39, 0, 10)]
    assert [BatchStream(LENGTHS, 8, seed=6)[i] for i in range(9)] != expected[:9]
    with pytest.raises(IndexError):
        forward[-1]


def test_share_picks_the_ranks_batches_of_every_round() -> None:
    def second_half(batches: list[list[int]]) -> list[list[int]]:
        return batches[5:]

    whole, half = BatchStream(LENGTHS, 8, seed=9), BatchStream(LENGTHS, 8, seed=9, share=second_half)
    assert len(half) == 4
    assert [half[4 + i] for i in range(4)] == [whole[9 + 5 + i] for i in range(4)]


def test_a_stream_needs_data() -> None:
    with pytest.raises(ValueError, match="at least one example"):
        BatchStream([], 8, seed=0)


def test_grouped_streams_keep_groups_whole_in_every_round_and_replay_exactly() -> None:
    groups = [i // 3 if i < 30 else 10 + (i - 30) // 2 for i in range(70)]  # groups of 3, then of 2
    stream = BatchStream(LENGTHS, 8, seed=9, groups=groups)
    first = [stream[i] for i in range(60)]  # several rounds, whose batch counts may differ
    for batch in first:
        members = {groups[i] for i in batch}
        for group in members:
            assert {i for i in range(70) if groups[i] == group} <= set(batch)  # never split
    rewound = BatchStream(LENGTHS, 8, seed=9, groups=groups)
    assert [rewound[i] for i in (45, 3, 59, 0)] == [first[i] for i in (45, 3, 59, 0)]
