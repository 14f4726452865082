"""Label ids, batches and group-aware batching for regression, multi-label and ranking data."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mtdnn.data import TaskData, batch_indices, make_batch
from mtdnn.data.dataset import group_ids, label_ids
from mtdnn.encoders.hf import HuggingFaceEncoder
from mtdnn.errors import DataError
from mtdnn.types import Example


def test_list_labels_become_multi_hot_vectors() -> None:
    examples = [
        Example("a", "x", label=["sports", "politics"]),
        Example("b", "y", label=[]),
        Example("c", "z", label="arts"),
    ]
    labels = ["arts", "politics", "sports"]
    assert label_ids(examples, labels, source="f") == ((0.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0))
    with pytest.raises(DataError, match="'music'"):
        label_ids([Example("a", "x", label=["music"])], labels, source="f")


def test_group_ids_number_groups_and_isolate_ungrouped_examples() -> None:
    assert group_ids([Example("a", "x"), Example("b", "y")]) is None
    ids = group_ids(
        [
            Example("a", "x", group="q1"),
            Example("b", "y"),
            Example("c", "z", group="q1"),
            Example("d", "w", group="q2"),
        ]
    )
    assert ids is not None
    assert ids[0] == ids[2]
    assert len({ids[0], ids[1], ids[3]}) == 3


@pytest.mark.parametrize("seed", [None, 0, 1, 2])
def test_group_aware_batches_keep_every_group_whole(seed: int | None) -> None:
    groups = [i // 3 for i in range(60)] + [100 + i for i in range(10)] + [200] * 9  # one group > batch
    lengths = [(i * 17) % 23 + 1 for i in range(len(groups))]
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    batches = batch_indices(lengths, 8, generator=generator, groups=groups, pool=2)
    assert sorted(i for batch in batches for i in batch) == list(range(len(groups)))
    where = {i: number for number, batch in enumerate(batches) for i in batch}
    for group in set(groups):
        assert len({where[i] for i, g in enumerate(groups) if g == group}) == 1, group
    assert all(len(batch) <= 8 for batch in batches if groups[batch[0]] != 200)
    again = batch_indices(
        lengths,
        8,
        generator=None if seed is None else torch.Generator().manual_seed(seed),
        groups=groups,
        pool=2,
    )
    assert batches == again


def test_batches_of_real_values_multi_hot_vectors_and_groups(tiny_bert: Path) -> None:
    encoder = HuggingFaceEncoder(str(tiny_bert))
    examples = (
        Example("a", "one", "two", group="q"),
        Example("b", "three", "four", group="q"),
        Example("c", "x"),
    )
    features = tuple(encoder.featurize(examples, max_length=16))
    floats = make_batch(TaskData("t", examples, features, (0.5, 4.0, 2.0)), [0, 1, 2], encoder)
    assert floats.labels is not None and floats.labels.dtype == torch.float32
    assert floats.groups is not None
    assert floats.groups.tolist()[0] == floats.groups.tolist()[1] != floats.groups.tolist()[2]
    hot = make_batch(TaskData("t", examples, features, ((1.0, 0.0), (0.0, 0.0), (1.0, 1.0))), [2, 0], encoder)
    assert hot.labels is not None and hot.labels.shape == (2, 2)
    assert hot.labels.tolist() == [[1.0, 1.0], [1.0, 0.0]]
    plain = make_batch(TaskData("t", examples[2:], features[2:], (1,)), [0], encoder)
    assert plain.groups is None and plain.labels is not None and plain.labels.dtype == torch.long
    assert floats.to("cpu").groups is not None
