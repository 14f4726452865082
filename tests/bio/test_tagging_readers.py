"""IOB/IOBES TSV and CoNLL column readers: round trips, labels from the data, scheme checks, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtdnn.errors import ConfigurationError, DataError
from mtdnn_bio.readers import ConllReader, IobReader, scheme_labels
from tests.conftest import shared_folder

IOB = "Familial\tO\nadenomatous\tB-Disease\npolyposis\tI-Disease\n.\tO\n\nBRCA1\tO\nmutations\tO\n"


def test_iob_round_trip_with_labels_from_the_training_file(tmp_path: Path) -> None:
    path = tmp_path / "train.tsv"
    path.write_text(IOB, encoding="utf-8")
    reader = IobReader(labels_from=str(path))
    assert reader.labels == ["O", "B-Disease", "I-Disease"]
    first, second = reader.read(path)
    assert first.id == "1" and first.words == ("Familial", "adenomatous", "polyposis", ".")
    assert first.tags == ("O", "B-Disease", "I-Disease", "O")
    assert first.text_a == "Familial adenomatous polyposis ."
    assert second.id == "2" and second.words == ("BRCA1", "mutations") and second.tags == ("O", "O")
    written = "\n\n".join(
        "\n".join(f"{w}\t{t}" for w, t in zip(e.words or (), e.tags or (), strict=True))
        for e in (first, second)
    )
    assert written + "\n" == IOB


def test_labels_cover_the_whole_scheme_of_each_type() -> None:
    assert scheme_labels("IOBES", ["Gene"]) == ["O", "B-Gene", "I-Gene", "E-Gene", "S-Gene"]
    assert IobReader(types=["Disease", "Chemical"]).labels == scheme_labels("IOB2", ["Chemical", "Disease"])
    with pytest.raises(ConfigurationError, match="give the entity types as 'types', or a file"):
        IobReader()


def test_a_labels_from_file_is_checked_against_declared_types(tmp_path: Path) -> None:
    path = tmp_path / "train.tsv"
    path.write_text("Aspirin\tB-Chemical\ncures\tO\n\nfever\tB-Disaese\n")  # a typo'd type
    assert IobReader(labels_from=str(path)).labels == scheme_labels("IOB2", ["Chemical", "Disaese"])
    with pytest.raises(DataError, match=r"train.tsv: sentence 2, word 'fever': the entity type 'Disaese'"):
        IobReader(types=["Chemical", "Disease"], labels_from=str(path))
    path.write_text("Aspirin\tB-Chemical\ncures\tO\n")
    both = IobReader(types=["Chemical", "Disease"], labels_from=str(path))
    assert both.labels == scheme_labels("IOB2", ["Chemical", "Disease"])  # the declared types decide


@pytest.mark.parametrize(
    ("text", "scheme", "message"),
    [
        ("a\tO\nb\tI-Disease\n", "IOB2", r"f\.tsv:2: tag 'I-Disease' after 'O' breaks IOB2"),
        ("a\tB-Disease\nb\tI-Chemical\n", "IOB2", r":2: tag 'I-Chemical' after 'B-Disease' breaks IOB2"),
        ("a\tB-Disease\nb\tO\n", "IOBES", r":2: tag 'O' after 'B-Disease' breaks IOBES"),
        ("a\tS-Gene\n\nb\tB-Gene\n", "IOBES", r":3: the sentence ends inside an entity"),
        ("a\tX-Gene\n", "IOB2", r":1: tag 'X-Gene' after 'O' is not a IOB2 tag"),
        ("a\tO\nb\tO\textra\n", "IOB2", r":2: expected 2 columns separated by '\\t', found 3"),
        ("a\tO\nlonely\n", "IOB2", r":2: expected 2 columns"),
    ],
)
def test_malformed_lines_name_the_file_and_line(tmp_path: Path, text: str, scheme: str, message: str) -> None:
    path = tmp_path / "f.tsv"
    path.write_text(text, encoding="utf-8")
    reader = IobReader(types=["Disease", "Chemical", "Gene"], scheme=scheme)  # type: ignore[arg-type]
    with pytest.raises(DataError, match=message):
        list(reader.read(path))


def test_iob1_allows_an_entity_to_start_with_i(tmp_path: Path) -> None:
    path = tmp_path / "f.tsv"
    path.write_text("a\tI-Gene\nb\tB-Gene\nc\tO\n", encoding="utf-8")
    [example] = IobReader(types=["Gene"], scheme="IOB1").read(path)
    assert example.tags == ("I-Gene", "B-Gene", "O")
    path.write_text("a\tO\nb\tB-Gene\n", encoding="utf-8")
    with pytest.raises(DataError, match="B-X only separates two adjacent X entities"):
        list(IobReader(types=["Gene"], scheme="IOB1").read(path))


def test_conll_columns_and_docstart(tmp_path: Path) -> None:
    path = tmp_path / "eng.train"
    path.write_text(
        "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nPeter NNP B-NP B-PER\n"
        "-DOCSTART- -X- -X- O\nBlackburn NNP B-NP B-LOC\n",
        encoding="utf-8",
    )
    reader = ConllReader(labels_from=str(path), label_column=3)
    assert reader.labels == ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    examples = list(reader.read(path))
    assert [e.words for e in examples] == [("EU", "rejects"), ("Peter",), ("Blackburn",)]
    assert [e.tags for e in examples] == [("B-ORG", "O"), ("B-PER",), ("B-LOC",)]
    unlabelled = list(ConllReader(types=["ORG"], label_column=None).read(path))
    assert unlabelled[0].words == ("EU", "rejects") and unlabelled[0].tags is None
    with pytest.raises(DataError, match=r"eng.train:3: expected a token in column 0 and a tag in column 7"):
        list(ConllReader(types=["ORG"], label_column=7).read(path))


@pytest.mark.parametrize(
    ("corpus", "types", "sentences"),
    [
        ("NCBI-disease-IOB", ["Disease"], (5424, 923, 940)),
        ("BC5CDR-IOB", ["Chemical", "Disease"], (4560, 4581, 4797)),
        ("BC2GM-IOB", ["GENE"], (12574, 2519, 5038)),
    ],
)
def test_the_shared_corpora_read_as_valid_iob2(
    shared_data: Path, corpus: str, types: list[str], sentences: tuple[int, int, int]
) -> None:
    folder = shared_folder(shared_data, corpus)
    reader = IobReader(labels_from=str(folder / "train.tsv"))
    assert reader.labels == scheme_labels("IOB2", types)
    counts = tuple(len(list(reader.read(folder / f"{split}.tsv"))) for split in ("train", "devel", "test"))
    assert counts == sentences  # the sentence counts of ../shared/data/MANIFEST.md
