"""Tests of the reader wrappers (subsample, swap_pairs) on the real GLUE files."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mtdnn.config.build import build
from mtdnn.errors import ConfigurationError, DataError
from mtdnn.readers import QnliRankingReader, Reader, SubsampleReader, SwapPairsReader
from mtdnn.readers.glue import GlueReader
from mtdnn.registry import Registry
from mtdnn.types import Example


@pytest.fixture(scope="module")
def sst2_train(glue_dir: Path) -> list[Example]:
    """The 67,349 real SST-2 training sentences."""
    return list(GlueReader("sst2").read(glue_dir / "SST-2" / "train.tsv"))


class _ListReader(Reader):
    """Serves fixed examples whatever the path (lets subsample tests skip re-reading SST-2)."""

    def __init__(self, examples: list[Example]) -> None:
        self.examples = examples

    @property
    def labels(self) -> list[str] | None:
        return ["0", "1"]

    def read(self, path: str | Path) -> Any:
        yield from self.examples


def _ids(reader: Reader, path: Path | str = "unused") -> list[str]:
    return [example.id for example in reader.read(path)]


# ---------------------------------------------------------------- subsample


@pytest.mark.parametrize(
    # Round half up, at least one: 0.1 % of 67349 = 67.349 -> 67; 1 % = 673.49 -> 673; 10 % = 6734.9 -> 6735.
    ("fraction", "expected"),
    [(0.001, 67), (0.01, 673), (0.1, 6735), (1.0, 67349)],
)
def test_subsample_sizes_on_real_sst2(sst2_train: list[Example], fraction: float, expected: int) -> None:
    kept = list(SubsampleReader(_ListReader(sst2_train), fraction=fraction).read("train.tsv"))
    assert len(kept) == expected


def test_subsample_keeps_file_order_and_is_deterministic(sst2_train: list[Example]) -> None:
    source = _ListReader(sst2_train)
    position = {example.id: index for index, example in enumerate(sst2_train)}
    first = _ids(SubsampleReader(source, fraction=0.01, seed=3))
    assert [position[i] for i in first] == sorted(position[i] for i in first)
    assert _ids(SubsampleReader(source, fraction=0.01, seed=3)) == first
    other = _ids(SubsampleReader(source, fraction=0.01, seed=4))
    assert len(other) == len(first)
    assert other != first


def test_smaller_shares_are_nested_in_larger_ones(sst2_train: list[Example]) -> None:
    source = _ListReader(sst2_train)
    shares = [set(_ids(SubsampleReader(source, fraction=f, seed=7))) for f in (0.001, 0.01, 0.1)]
    assert shares[0] < shares[1] < shares[2]
    assert set(_ids(SubsampleReader(source, count=673, seed=7))) == shares[1]


def test_subsample_reads_the_real_file(glue_dir: Path) -> None:
    reader = SubsampleReader(GlueReader("rte"), fraction=0.1, seed=1)
    examples = list(reader.read(glue_dir / "RTE" / "train.tsv"))
    assert len(examples) == 249  # 10 % of 2490
    assert {example.label for example in examples} == {"entailment", "not_entailment"}
    assert reader.labels == ["entailment", "not_entailment"]


def test_subsample_keeps_at_least_one(glue_dir: Path) -> None:
    # 0.01 % of RTE dev (277 rows) is 0.0277 examples: one is kept.
    assert len(_ids(SubsampleReader(GlueReader("rte"), fraction=0.0001), glue_dir / "RTE" / "dev.tsv")) == 1


def test_subsample_count(glue_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = glue_dir / "RTE" / "dev.tsv"
    assert len(_ids(SubsampleReader(GlueReader("rte"), count=100), path)) == 100
    with caplog.at_level(logging.WARNING, logger="mtdnn.readers.wrappers"):
        everything = _ids(SubsampleReader(GlueReader("rte"), count=1000), path)
    assert everything == _ids(GlueReader("rte"), path)
    assert "count 1000 exceeds the 277 units" in caplog.text


def test_subsample_keeps_whole_qnli_groups(glue_dir: Path) -> None:
    path = glue_dir / "QNLI" / "dev.tsv"
    full = Counter(example.group for example in QnliRankingReader().read(path))
    assert len(full) == 4100
    kept = list(SubsampleReader(QnliRankingReader(), fraction=0.1, seed=2).read(path))
    sizes = Counter(example.group for example in kept)
    assert len(sizes) == 410  # 10 % of the 4100 groups, not of the 5463 rows
    assert all(sizes[group] == full[group] for group in sizes)
    assert len(kept) == sum(sizes.values())
    assert any(size > 1 for size in sizes.values())
    order = [example.id for example in QnliRankingReader().read(path)]
    assert [example.id for example in kept] == [i for i in order if i in {e.id for e in kept}]


def test_subsample_mixes_grouped_and_ungrouped_examples() -> None:
    examples = [
        Example("a1", "q", "x", "1", group="a"),
        Example("s1", "single", None, "0"),
        Example("a2", "q", "y", "0", group="a"),
        Example("s2", "other", None, "1"),
    ]
    # Three units: group a, s1, s2. 2/3 of them -> 2 units.
    for seed in range(10):
        ids = _ids(SubsampleReader(_ListReader(examples), fraction=0.67, seed=seed))
        assert ("a1" in ids) == ("a2" in ids)
        assert len({"a" if i.startswith("a") else i for i in ids}) == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "give exactly one of 'fraction' and 'count'"),
        ({"fraction": 0.1, "count": 5}, "give exactly one of 'fraction' and 'count'"),
        ({"fraction": 0.0}, "fraction must be in (0, 1], got 0.0"),
        ({"fraction": 1.5}, "fraction must be in (0, 1], got 1.5"),
        ({"fraction": float("nan")}, "fraction must be in (0, 1], got nan"),
        ({"count": 0}, "count must be at least 1, got 0"),
    ],
)
def test_subsample_options_are_checked(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        SubsampleReader(GlueReader("rte"), **options)
    assert message in str(caught.value)


def test_subsample_builds_from_config(registry: Registry, glue_dir: Path) -> None:
    config = {"type": "subsample", "reader": {"type": "glue", "task": "rte"}, "fraction": 0.1, "seed": 1}
    reader = build(registry, Reader, config, path="tasks.rte.reader")
    assert isinstance(reader, SubsampleReader)
    assert isinstance(reader.reader, GlueReader)
    assert (reader.fraction, reader.count, reader.seed) == (0.1, None, 1)
    assert _ids(reader, glue_dir / "RTE" / "train.tsv") == _ids(
        SubsampleReader(GlueReader("rte"), fraction=0.1, seed=1), glue_dir / "RTE" / "train.tsv"
    )


def test_subsample_config_errors_name_the_path(registry: Registry) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build(registry, Reader, {"type": "subsample", "reader": "qnli_ranking"}, path="tasks.q.reader")
    assert str(caught.value).startswith("tasks.q.reader: give exactly one of 'fraction' and 'count'")
    with pytest.raises(ConfigurationError, match=r"tasks\.q\.reader\.reader\.type: unknown reader 'glu'"):
        build(
            registry,
            Reader,
            {"type": "subsample", "reader": {"type": "glu"}, "count": 3},
            path="tasks.q.reader",
        )


def test_wrappers_forward_labels_of_regression_readers() -> None:
    assert SubsampleReader(GlueReader("stsb"), count=1).labels is None
    assert SwapPairsReader(GlueReader("stsb")).labels is None


# ---------------------------------------------------------------- swap_pairs


def test_swap_pairs_doubles_real_mrpc(glue_dir: Path) -> None:
    path = glue_dir / "MRPC" / "dev.tsv"
    original = list(GlueReader("mrpc").read(path))
    swapped = list(SwapPairsReader(GlueReader("mrpc")).read(path))
    assert len(original) == 408
    assert len(swapped) == 816
    assert swapped[0::2] == original
    for pair, copy in zip(original, swapped[1::2], strict=True):
        assert copy == Example(
            id=f"{pair.id}:swapped", text_a=pair.text_b or "", text_b=pair.text_a, label=pair.label
        )
    ids = [example.id for example in swapped]
    assert len(set(ids)) == len(ids)


def test_swap_pairs_keeps_scores_and_groups(glue_dir: Path) -> None:
    stsb = list(SwapPairsReader(GlueReader("stsb")).read(glue_dir / "STS-B" / "dev.tsv"))
    assert len(stsb) == 3000
    assert stsb[1].label == stsb[0].label == 5.0
    qnli = list(SwapPairsReader(QnliRankingReader()).read(glue_dir / "QNLI" / "dev.tsv"))
    assert qnli[1].group == qnli[0].group == qnli[0].text_a == qnli[1].text_b


def test_swap_pairs_rejects_single_sentences(glue_dir: Path) -> None:
    path = glue_dir / "SST-2" / "dev.tsv"
    with pytest.raises(DataError) as caught:
        list(SwapPairsReader(GlueReader("sst2")).read(path))
    assert str(caught.value).startswith(f"{path}: example 'dev-1' has no second text")
    assert caught.value.file == str(path)


def test_wrappers_nest_in_a_config(registry: Registry, glue_dir: Path) -> None:
    config = {
        "type": "swap_pairs",
        "reader": {"type": "subsample", "reader": {"type": "glue", "task": "mrpc"}, "count": 10, "seed": 5},
    }
    reader = build(registry, Reader, config, path="tasks.mrpc.reader")
    examples = list(reader.read(glue_dir / "MRPC" / "train.tsv"))
    assert len(examples) == 20
    assert sum(example.id.endswith(":swapped") for example in examples) == 10
    assert reader.labels == ["0", "1"]
