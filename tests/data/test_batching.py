"""Length-bucketed batching, dynamic padding and label ids."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mtdnn.data import TaskData, batch_indices, load_task_data, make_batch
from mtdnn.data.dataset import label_ids
from mtdnn.encoders.hf import HuggingFaceEncoder
from mtdnn.errors import DataError
from mtdnn.readers.glue import GlueReader
from mtdnn.types import Example


def test_training_batches_cover_every_example_once_and_are_length_sorted_within_pools() -> None:
    lengths = [(i * 37) % 101 + 1 for i in range(1000)]
    batches = batch_indices(lengths, 16, generator=torch.Generator().manual_seed(0), pool=10)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(1000))
    assert all(len(batch) <= 16 for batch in batches)

    # Inside a batch lengths are close: padding waste far below that of random batches.
    def padding(groups: list[list[int]]) -> int:
        return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in groups)

    random_order = torch.randperm(1000, generator=torch.Generator().manual_seed(1)).tolist()
    random_batches = [random_order[i : i + 16] for i in range(0, 1000, 16)]
    assert padding(batches) < padding(random_batches) / 3


def test_batch_order_is_a_function_of_the_seed() -> None:
    lengths = list(range(200))
    first = batch_indices(lengths, 8, generator=torch.Generator().manual_seed(5))
    again = batch_indices(lengths, 8, generator=torch.Generator().manual_seed(5))
    other = batch_indices(lengths, 8, generator=torch.Generator().manual_seed(6))
    assert first == again
    assert first != other


def test_evaluation_batches_are_sorted_by_length() -> None:
    assert batch_indices([5, 1, 3, 2], 2) == [[1, 3], [2, 0]]
    with pytest.raises(ValueError, match="positive"):
        batch_indices([1], 0)


def test_label_ids_map_text_labels_and_reject_unknown_ones() -> None:
    examples = [Example("a", "x", label="entailment"), Example("b", "y", label="not_entailment")]
    assert label_ids(examples, ["entailment", "not_entailment"], source="f") == (0, 1)
    assert label_ids([Example("a", "x", label=3.5)], None, source="f") == (3.5,)
    assert label_ids([Example("a", "x")], ["0", "1"], source="f") is None
    with pytest.raises(DataError, match="'neutral'"):
        label_ids([Example("a", "x", label="neutral")], ["entailment", "not_entailment"], source="f")
    with pytest.raises(DataError, match="has no label"):
        label_ids([Example("a", "x", label="0"), Example("b", "y")], ["0", "1"], source="f")


def test_dynamic_padding_pads_to_the_longest_in_the_batch(repo_root: Path, tiny_bert: Path) -> None:
    encoder = HuggingFaceEncoder(str(tiny_bert))
    path = repo_root / "data" / "quickstart" / "rte" / "dev.tsv"
    data = load_task_data("rte", GlueReader("rte"), path, encoder, max_length=64)
    assert len(data) == 200
    assert max(data.lengths) == 64  # long RTE pairs are truncated to max_length
    short = sorted(range(len(data)), key=lambda i: data.lengths[i])[:4]
    batch = make_batch(data, short, encoder)
    longest = max(data.lengths[i] for i in short)
    assert batch.inputs["input_ids"].shape == (4, longest)
    assert batch.inputs["attention_mask"].sum(1).tolist() == [data.lengths[i] for i in short]
    assert batch.labels is not None and batch.labels.dtype == torch.long
    assert batch.ids == tuple(data.examples[i].id for i in short)


def test_missing_or_empty_files_are_data_errors(tmp_path: Path, tiny_bert: Path) -> None:
    encoder = HuggingFaceEncoder(str(tiny_bert))
    with pytest.raises(DataError, match="no such file"):
        load_task_data("sst2", GlueReader("sst2"), tmp_path / "missing.tsv", encoder, max_length=16)
    empty = TaskData("t", (), (), None)
    assert len(empty) == 0
