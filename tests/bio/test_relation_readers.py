"""Tests of the ChemProt and GAD / EU-ADR readers on small files, malformed lines and the real data."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mtdnn.config.build import build
from mtdnn.errors import DataError
from mtdnn.readers.base import Reader
from mtdnn.registry import Registry
from mtdnn_bio.readers import CHEMPROT_LABELS, BioRelationReader, ChemProtReader
from tests.conftest import shared_folder

# Per-fold example counts from the data MANIFEST: fold -> (train, test).
GAD_COUNTS = {1: (4796, 534), **{fold: (4797, 533) for fold in range(2, 10)}, 10: (4798, 532)}
EUADR_COUNTS = {1: (318, 37), 2: (318, 37), 3: (319, 36), **{fold: (320, 35) for fold in range(4, 11)}}

CHEMPROT_TRAIN = {
    "INHIBITOR": 1642,
    "INDIRECT-DOWNREGULATOR": 487,
    "SUBSTRATE": 480,
    "INDIRECT-UPREGULATOR": 387,
    "ACTIVATOR": 323,
    "ANTAGONIST": 235,
    "PRODUCT-OF": 233,
    "AGONIST": 156,
    "DOWNREGULATOR": 131,
    "UPREGULATOR": 67,
    "SUBSTRATE_PRODUCT-OF": 14,
    "AGONIST-ACTIVATOR": 10,
    "AGONIST-INHIBITOR": 4,
}


def _jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


# ChemProt ------------------------------------------------------------------------------------------


def test_chemprot_labels_are_the_13_sorted_training_labels() -> None:
    assert ChemProtReader().labels == sorted(CHEMPROT_TRAIN)
    assert list(CHEMPROT_LABELS) == sorted(CHEMPROT_TRAIN)


def test_chemprot_round_trip_keeps_markers_and_numbers_lines(tmp_path: Path) -> None:
    text = "<< Epidermal growth factor receptor >> inhibitors include [[ gefitinib ]] ."
    path = tmp_path / "dev.txt"
    path.write_text(
        json.dumps({"text": text, "label": "INHIBITOR", "metadata": []})
        + "\n\n"
        + json.dumps({"text": "<< a >> binds [[ b ]]", "label": "AGONIST", "metadata": {"pmid": 1}})
        + "\n",
        encoding="utf-8",
    )
    examples = list(ChemProtReader().read(path))
    assert [example.id for example in examples] == ["dev-1", "dev-3"]  # line 2 is blank
    assert examples[0].text_a == text
    assert examples[0].text_b is None
    assert [example.label for example in examples] == ["INHIBITOR", "AGONIST"]


def test_chemprot_line_without_label_is_unlabelled(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "test.txt", [{"text": "<< a >> and [[ b ]]"}])
    assert [example.label for example in ChemProtReader().read(path)] == [None]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '{"text": "<< a >> [[ b ]]", "label": "inhibitor"}',
            r"label 'inhibitor' is not one of .*'INHIBITOR'\?",
        ),
        ('{"text": "<< a >> [[ b ]]", "label": "false"}', r"label 'false' is not one of the ChemProt labels"),
        ('{"text": "<< a >> [[ b ]]", "label": 3}', r"label 3 is not one of"),
        ('{"text": "<< a >> [[ b ]]", "label": "INHIBITOR"', r"not valid JSON"),
        ('["<< a >> [[ b ]]", "INHIBITOR"]', r"expected a JSON object, got list"),
        ('{"label": "INHIBITOR"}', r"expected a non-empty string under 'text', got None"),
        ('{"text": "  ", "label": "INHIBITOR"}', r"expected a non-empty string under 'text'"),
    ],
)
def test_chemprot_malformed_line_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "train.txt"
    path.write_text('{"text": "<< x >> [[ y ]]", "label": "AGONIST"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=message) as info:
        list(ChemProtReader().read(path))
    assert str(info.value).startswith(f"{path}:2: ")
    assert info.value.line == 2


def test_chemprot_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "train.txt"
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match="holds no examples"):
        list(ChemProtReader().read(path))


# GAD / EU-ADR ---------------------------------------------------------------------------------------


def test_relation_headerless_train_layout(tmp_path: Path) -> None:
    path = tmp_path / "train.tsv"
    path.write_text("@GENE$ causes @DISEASE$ .\t1\n\n  @GENE$ and @DISEASE$ \t0\n", encoding="utf-8")
    examples = list(BioRelationReader().read(path))
    assert [(e.id, e.text_a, e.label) for e in examples] == [
        ("train-1", "@GENE$ causes @DISEASE$ .", "1"),
        ("train-2", "@GENE$ and @DISEASE$", "0"),  # row position among data rows, blank skipped
    ]
    assert BioRelationReader().labels == ["0", "1"]


def test_relation_headed_test_layout_uses_the_index_column(tmp_path: Path) -> None:
    path = tmp_path / "test.tsv"
    path.write_text("index\tsentence\tlabel\r\n0\t@GENE$ in @DISEASE$\t1\r\n7\tno @GENE$ @DISEASE$\t0\r\n")
    examples = list(BioRelationReader().read(path))
    assert [(e.id, e.text_a, e.label) for e in examples] == [
        ("test-0", "@GENE$ in @DISEASE$", "1"),
        ("test-7", "no @GENE$ @DISEASE$", "0"),
    ]


def test_relation_headed_file_without_label_is_unlabelled(tmp_path: Path) -> None:
    path = tmp_path / "test.tsv"
    path.write_text("index\tsentence\n0\t@GENE$ in @DISEASE$\n", encoding="utf-8")
    assert [(e.id, e.label) for e in BioRelationReader().read(path)] == [("test-0", None)]


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (
            "a @GENE$ b\t1\nno label here\n",
            2,
            r"expected 2 tab-separated columns \(sentence\tlabel\), found 1",
        ),
        ("a @GENE$ b\t1\nc\t1\textra\n", 2, r"expected 2 tab-separated columns"),
        ("a @GENE$ b\t1\nc @DISEASE$\tyes\n", 2, r"label 'yes' is not one of \['0', '1'\]"),
        ("a @GENE$ b\t1\n \t0\n", 2, r"the sentence is empty"),
        ("index\tsentence\tlabel\n0\ta\t1\n1\tb\n", 3, r"expected 3 tab-separated columns"),
        ("index\tsentence\tlabel\n0\ta\t1\n0\tb\t0\n", 3, r"duplicate example id 'bad-0'"),
    ],
)
def test_relation_malformed_line_names_file_and_line(
    tmp_path: Path, content: str, line: int, message: str
) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message) as info:
        list(BioRelationReader().read(path))
    assert str(info.value).startswith(f"{path}:{line}: ")


@pytest.mark.parametrize("content", ["", "\n\n", "index\tsentence\tlabel\n"])
def test_relation_file_without_data_rows_is_an_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "test.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match="holds no data rows"):
        list(BioRelationReader().read(path))


@pytest.mark.parametrize(
    ("config", "cls"), [("chemprot", ChemProtReader), ("bio_relation", BioRelationReader)]
)
def test_relation_readers_build_from_config(registry: Registry, config: str, cls: type) -> None:
    registry.add(Reader, "chemprot", ChemProtReader)
    registry.add(Reader, "bio_relation", BioRelationReader)
    assert isinstance(build(registry, Reader, {"type": config}, path="tasks.x.reader"), cls)


# Real data ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("split", "count"), [("train", 4169), ("dev", 2427), ("test", 3469)])
def test_chemprot_real_counts(shared_data: Path, split: str, count: int) -> None:
    folder = shared_folder(shared_data, "ChemProt")
    examples = list(ChemProtReader().read(folder / f"{split}.txt"))
    assert len(examples) == count
    assert len({example.id for example in examples}) == count
    assert all("<< " in example.text_a and "[[ " in example.text_a for example in examples)
    labels = Counter(example.label for example in examples)
    if split == "train":
        assert labels == CHEMPROT_TRAIN
    else:  # dev and test each lack one training label, yet map to the same ids
        missing = {"dev": "AGONIST-INHIBITOR", "test": "SUBSTRATE_PRODUCT-OF"}[split]
        assert set(labels) == set(CHEMPROT_LABELS) - {missing}


@pytest.mark.parametrize(("corpus", "counts"), [("GAD", GAD_COUNTS), ("euadr", EUADR_COUNTS)])
def test_gad_and_euadr_real_folds(shared_data: Path, corpus: str, counts: dict[int, tuple[int, int]]) -> None:
    root = shared_folder(shared_data, corpus)
    reader = BioRelationReader()
    for fold, (train_count, test_count) in counts.items():
        train = list(reader.read(root / str(fold) / "train.tsv"))
        test = list(reader.read(root / str(fold) / "test.tsv"))
        assert (fold, len(train), len(test)) == (fold, train_count, test_count)
        assert train[0].id == "train-1" and test[0].id == "test-0"
        assert {example.label for example in train + test} == {"0", "1"}
        assert all("@GENE$" in example.text_a for example in train + test)
