"""Tests of the GLUE reader on the real GLUE files, hand-written fixtures and malformed input."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtdnn.errors import ConfigurationError, DataError
from mtdnn.readers.base import Reader
from mtdnn.readers.glue import GlueReader
from mtdnn.types import Example

BINARY = {"0", "1"}
ENTAILMENT = {"entailment", "not_entailment"}

# task, folder, split, examples (MANIFEST.md), label set (None: unlabelled test split),
# first example's (id, text_a, text_b)
REAL_FILES = [
    (
        "cola",
        "CoLA",
        "train",
        8551,
        BINARY,
        ("train-1", "Our friends won't buy this analysis, let alone the next one we propose.", None),
    ),
    ("cola", "CoLA", "dev", 1043, BINARY, ("dev-1", "The sailors rode the breeze clear of the rocks.", None)),
    ("cola", "CoLA", "test", 1063, None, ("test-0", "Bill whistled past the house.", None)),
    (
        "sst2",
        "SST-2",
        "train",
        67349,
        BINARY,
        ("train-1", "hide new secretions from the parental units", None),
    ),
    ("sst2", "SST-2", "dev", 872, BINARY, ("dev-1", "it 's a charming and often affecting journey .", None)),
    ("sst2", "SST-2", "test", 1821, None, ("test-0", "uneasy mishmash of styles and genres .", None)),
    (
        "mrpc",
        "MRPC",
        "train",
        3668,
        BINARY,
        (
            "train-1",
            'Amrozi accused his brother , whom he called " the witness " , of deliberately distorting '
            "his evidence .",
            'Referring to him as only " the witness " , Amrozi accused his brother of deliberately '
            "distorting his evidence .",
        ),
    ),
    (
        "mrpc",
        "MRPC",
        "dev",
        408,
        BINARY,
        (
            "dev-1",
            "He said the foodservice pie business doesn 't fit the company 's long-term growth strategy .",
            '" The foodservice pie business does not fit our long-term growth strategy .',
        ),
    ),
    (
        "mrpc",
        "MRPC",
        "test",
        1725,
        None,
        (
            "test-0",
            "PCCW 's chief operating officer , Mike Butcher , and Alex Arena , the chief financial officer , "
            "will report directly to Mr So .",
            "Current Chief Operating Officer Mike Butcher and Group Chief Financial Officer Alex Arena will "
            "report to So .",
        ),
    ),
    (
        "rte",
        "RTE",
        "train",
        2490,
        ENTAILMENT,
        (
            "train-0",
            "No Weapons of Mass Destruction Found in Iraq Yet.",
            "Weapons of Mass Destruction Found in Iraq.",
        ),
    ),
    (
        "rte",
        "RTE",
        "dev",
        277,
        ENTAILMENT,
        (
            "dev-0",
            "Dana Reeve, the widow of the actor Christopher Reeve, has died of lung cancer at age 44, "
            "according to the Christopher Reeve Foundation.",
            "Christopher Reeve had an accident.",
        ),
    ),
    (
        "rte",
        "RTE",
        "test",
        3000,
        None,
        (
            "test-0",
            "Mangla was summoned after Madhumita's sister Nidhi Shukla, who was the first witness "
            "in the case.",
            "Shukla is related to Mangla.",
        ),
    ),
    (
        "stsb",
        "STS-B",
        "train",
        5749,
        float,
        ("train-0", "A plane is taking off.", "An air plane is taking off."),
    ),
    (
        "stsb",
        "STS-B",
        "dev",
        1500,
        float,
        ("dev-0", "A man with a hard hat is dancing.", "A man wearing a hard hat is dancing."),
    ),
    (
        "stsb",
        "STS-B",
        "test",
        1379,
        None,
        ("test-0", "A girl is styling her hair.", "A girl is brushing her hair."),
    ),
    (
        "wnli",
        "WNLI",
        "train",
        635,
        BINARY,
        (
            "train-0",
            "I stuck a pin through a carrot. When I pulled the pin out, it had a hole.",
            "The carrot had a hole.",
        ),
    ),
    (
        "wnli",
        "WNLI",
        "dev",
        71,
        BINARY,
        ("dev-0", "The drain is clogged with hair. It has to be cleaned.", "The hair has to be cleaned."),
    ),
    (
        "wnli",
        "WNLI",
        "test",
        146,
        None,
        (
            "test-0",
            "Maude and Dora had seen the trains rushing across the prairie, with long, rolling puffs of "
            "black smoke streaming back from the engine. Their roars and their wild, clear whistles could "
            "be heard from far away. Horses ran away when they came in sight.",
            "Horses ran away when Maude and Dora came in sight.",
        ),
    ),
    (
        "qnli",
        "QNLI",
        "dev",
        5463,
        ENTAILMENT,
        (
            "dev-0",
            "What came into force after the new constitution was herald?",
            "As of that day, the new constitution heralding the Second Republic came into force.",
        ),
    ),
    (
        "qnli",
        "QNLI",
        "test",
        5463,
        None,
        (
            "test-0",
            "What organization is devoted to Jihad against Israel?",
            "For some decades prior to the First Palestine Intifada in 1987, the Muslim Brotherhood in "
            'Palestine took a "quiescent" stance towards Israel, focusing on preaching, education and '
            'social services, and benefiting from Israel\'s "indulgence" to build up a network of '
            "mosques and charitable organizations.",
        ),
    ),
]


@pytest.fixture(scope="module")
def fixtures(repo_root: Path) -> Path:
    """The hand-written GLUE fixture files."""
    return repo_root / "tests" / "fixtures" / "glue"


def _check_ids(examples: list[Example], stem: str) -> None:
    ids = [example.id for example in examples]
    assert len(set(ids)) == len(ids)
    assert all(example_id.startswith(f"{stem}-") for example_id in ids)


@pytest.mark.parametrize(
    ("task", "folder", "split", "count", "labels", "first"),
    REAL_FILES,
    ids=[f"{folder}-{split}" for _, folder, split, *_ in REAL_FILES],
)
def test_real_glue_file(
    glue_dir: Path,
    task: str,
    folder: str,
    split: str,
    count: int,
    labels: set[str] | type | None,
    first: tuple[str, str | None, str | None],
) -> None:
    reader = GlueReader(task)  # type: ignore[arg-type]
    examples = list(reader.read(glue_dir / folder / f"{split}.tsv"))

    assert len(examples) == count
    _check_ids(examples, split)
    assert (examples[0].id, examples[0].text_a, examples[0].text_b) == first
    if task in ("cola", "sst2"):
        assert all(example.text_b is None for example in examples)
    else:
        assert all(example.text_b is not None for example in examples)
    if labels is None:
        assert all(example.label is None for example in examples)
    elif labels is float:
        assert all(isinstance(example.label, float) for example in examples)
        assert all(0.0 <= example.label <= 5.0 for example in examples)  # type: ignore[operator]
    else:
        assert {example.label for example in examples} == labels
        assert labels <= set(reader.labels or [])


def test_stsb_scores_are_floats(glue_dir: Path) -> None:
    examples = GlueReader("stsb").read(glue_dir / "STS-B" / "dev.tsv")
    first, second = next(examples), next(examples)
    assert first.label == 5.0
    assert second.label == 4.75


def test_mrpc_bom_is_stripped(glue_dir: Path) -> None:
    raw = (glue_dir / "MRPC" / "train.tsv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfQuality\t")
    first = next(GlueReader("mrpc").read(glue_dir / "MRPC" / "train.tsv"))
    assert first.label == "1"


def test_quotes_are_literal(glue_dir: Path) -> None:
    examples = list(GlueReader("mrpc").read(glue_dir / "MRPC" / "dev.tsv"))
    assert examples[0].text_b is not None
    assert examples[0].text_b.startswith('" The foodservice')


@pytest.mark.parametrize(
    ("task", "labels"),
    [
        ("cola", ["0", "1"]),
        ("sst2", ["0", "1"]),
        ("mrpc", ["0", "1"]),
        ("qqp", ["0", "1"]),
        ("wnli", ["0", "1"]),
        ("rte", ["entailment", "not_entailment"]),
        ("qnli", ["entailment", "not_entailment"]),
        ("mnli", ["contradiction", "entailment", "neutral"]),
        ("stsb", None),
    ],
)
def test_label_vocabulary(task: str, labels: list[str] | None) -> None:
    reader = GlueReader(task)  # type: ignore[arg-type]
    assert isinstance(reader, Reader)
    assert reader.labels == labels


def test_labels_property_returns_a_copy() -> None:
    reader = GlueReader("rte")
    vocabulary = reader.labels
    assert vocabulary is not None
    vocabulary.append("oops")
    assert reader.labels == ["entailment", "not_entailment"]


def test_mnli_train_fixture(fixtures: Path) -> None:
    examples = list(GlueReader("mnli").read(fixtures / "mnli" / "train.tsv"))
    assert len(examples) == 6
    _check_ids(examples, "train")
    assert examples[0] == Example(
        id="train-0",
        text_a="The lighthouse keeper climbed the stairs every evening.",
        text_b="Someone climbed stairs.",
        label="entailment",
    )
    assert [example.label for example in examples] == ["entailment", "contradiction", "neutral"] * 2
    assert examples[3].text_a == 'He called the plan "bold" at the meeting.'


def test_mnli_dev_matched_uses_gold_label(fixtures: Path) -> None:
    examples = list(GlueReader("mnli").read(fixtures / "mnli" / "dev_matched.tsv"))
    assert len(examples) == 5
    _check_ids(examples, "dev_matched")
    assert examples[0].id == "dev_matched-0"
    # label1..label5 disagree with the gold label on some rows; only gold_label counts.
    assert [example.label for example in examples] == [
        "entailment",
        "contradiction",
        "neutral",
        "entailment",
        "contradiction",
    ]
    assert examples[4].text_a == 'The sign read "closed for repairs" all week.'


def test_mnli_test_layout_has_no_labels(tmp_path: Path) -> None:
    header = (
        "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
        "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\n"
    )
    rows = [
        "0\t31\t31e\tslate\t( a )\t( b )\t(ROOT a)\t(ROOT b)\tA man reads.\tSomeone reads.\n",
        "1\t32\t32n\tslate\t( c )\t( d )\t(ROOT c)\t(ROOT d)\tIt is late.\tIt is dark.\n",
    ]
    path = tmp_path / "test_matched.tsv"
    path.write_text(header + "".join(rows), encoding="utf-8")
    examples = list(GlueReader("mnli").read(path))
    assert [example.id for example in examples] == ["test_matched-0", "test_matched-1"]
    assert examples[1] == Example(id="test_matched-1", text_a="It is late.", text_b="It is dark.")


def test_qqp_fixtures(fixtures: Path) -> None:
    reader = GlueReader("qqp")
    train = list(reader.read(fixtures / "qqp" / "train.tsv"))
    dev = list(reader.read(fixtures / "qqp" / "dev.tsv"))
    assert (len(train), len(dev)) == (6, 5)
    _check_ids(train, "train")
    _check_ids(dev, "dev")
    assert train[0] == Example(
        id="train-500",
        text_a="How do I learn to cook rice properly?",
        text_b="What is the best way to cook rice?",
        label="1",
    )
    assert train[2].text_a == 'What does "serendipity" mean?'
    assert {example.label for example in train + dev} == BINARY
    assert dev[-1].id == "dev-904"


def test_qqp_test_layout_has_no_labels(tmp_path: Path) -> None:
    path = tmp_path / "test.tsv"
    path.write_text("id\tquestion1\tquestion2\n0\tWhy?\tWhy not?\n1\tHow?\tHow so?\n", encoding="utf-8")
    examples = list(GlueReader("qqp").read(path))
    assert examples == [
        Example(id="test-0", text_a="Why?", text_b="Why not?"),
        Example(id="test-1", text_a="How?", text_b="How so?"),
    ]


def test_empty_lines_are_skipped_and_ids_follow_data_rows(tmp_path: Path) -> None:
    path = tmp_path / "dev.tsv"
    path.write_text("sentence\tlabel\n\ngood film \t1\n\n\nbad film\t0\n\n", encoding="utf-8")
    examples = list(GlueReader("sst2").read(path))
    assert examples == [
        Example(id="dev-1", text_a="good film", label="1"),
        Example(id="dev-2", text_a="bad film", label="0"),
    ]


def test_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "train.tsv"
    path.write_bytes(b"index\tsentence1\tsentence2\tlabel\r\n0\tA b.\tC d.\tentailment\r\n")
    assert list(GlueReader("rte").read(path)) == [
        Example(id="train-0", text_a="A b.", text_b="C d.", label="entailment")
    ]


def test_unbalanced_quote_does_not_swallow_lines(tmp_path: Path) -> None:
    path = tmp_path / "dev.tsv"
    path.write_text('sentence\tlabel\n" opens a quote\t1\nnext line\t0\n', encoding="utf-8")
    examples = list(GlueReader("sst2").read(path))
    assert [example.text_a for example in examples] == ['" opens a quote', "next line"]


def test_columns_are_found_by_name(tmp_path: Path) -> None:
    path = tmp_path / "dev.tsv"
    path.write_text("label\tsentence2\tsentence1\tindex\nentailment\tB.\tA.\tx7\n", encoding="utf-8")
    assert list(GlueReader("rte").read(path)) == [
        Example(id="dev-x7", text_a="A.", text_b="B.", label="entailment")
    ]


@pytest.mark.parametrize(
    ("task", "name", "line", "message"),
    [
        ("rte", "wrong_columns.tsv", 3, "expected 4 tab-separated columns, found 3"),
        ("rte", "bad_label.tsv", 3, "label 'contradiction' is not one of"),
        ("stsb", "bad_score.tsv", 3, "score 'high' is not a finite number"),
        ("rte", "missing_column.tsv", 1, "lacks column(s) ['sentence2']"),
        ("rte", "duplicate_id.tsv", 3, "duplicate example id 'duplicate_id-7'"),
        ("rte", "empty.tsv", 1, "empty"),
        ("rte", "header_only.tsv", 1, "no data lines"),
        ("cola", "cola_wrong_columns.tsv", 2, "expected 4 tab-separated columns, found 3"),
    ],
)
def test_malformed_files(fixtures: Path, task: str, name: str, line: int, message: str) -> None:
    path = fixtures / "malformed" / name
    with pytest.raises(DataError) as caught:
        list(GlueReader(task).read(path))  # type: ignore[arg-type]
    assert f"{path}:{line}" in str(caught.value)
    assert message in str(caught.value)
    assert caught.value.file == str(path)
    assert caught.value.line == line


def test_nan_score_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "dev.tsv"
    path.write_text("index\tsentence1\tsentence2\tscore\n0\ta\tb\tnan\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"dev\.tsv:2: score 'nan'"):
        list(GlueReader("stsb").read(path))


def test_sst2_file_without_header_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "train.tsv"
    path.write_text("a fine film\t1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"train\.tsv:1: the sst2 header lacks column\(s\) \['sentence'\]"):
        list(GlueReader("sst2").read(path))


def test_unknown_task_suggests_the_right_name() -> None:
    with pytest.raises(ConfigurationError) as caught:
        GlueReader("SST-2")  # type: ignore[arg-type]
    assert "unknown GLUE task 'SST-2'" in str(caught.value)
    assert caught.value.hint is not None
    assert "did you mean 'sst2'?" in caught.value.hint


def test_quickstart_samples(repo_root: Path) -> None:
    quickstart = repo_root / "data" / "quickstart"
    expected = {
        ("sst2", "train"): 600,
        ("sst2", "dev"): 200,
        ("mrpc", "train"): 400,
        ("mrpc", "dev"): 200,
        ("rte", "train"): 400,
        ("rte", "dev"): 200,
    }
    for (task, split), count in expected.items():
        examples = list(GlueReader(task).read(quickstart / task / f"{split}.tsv"))  # type: ignore[arg-type]
        assert len(examples) == count
        assert all(example.label is not None for example in examples)
        _check_ids(examples, split)


def test_quickstart_samples_are_prefixes_of_the_originals(repo_root: Path, glue_dir: Path) -> None:
    folders = {"sst2": "SST-2", "mrpc": "MRPC", "rte": "RTE"}
    for task, folder in folders.items():
        for split in ("train", "dev"):
            sample = (repo_root / "data" / "quickstart" / task / f"{split}.tsv").read_bytes()
            original = (glue_dir / folder / f"{split}.tsv").read_bytes()
            assert original.startswith(sample), f"{task}/{split}.tsv is not a prefix of the original"
            assert sample.endswith(b"\n")


def test_classic_mac_line_endings_a_repeated_header_column_and_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "dev.tsv"
    path.write_bytes(b"\xef\xbb\xbfsentence\tlabel\ra fine film\t1\rdull\t0\r")
    examples = list(GlueReader(task="sst2").read(path))
    assert [(e.text_a, e.label) for e in examples] == [("a fine film", "1"), ("dull", "0")]
    path.write_text("sentence\tlabel\tsentence\nx\t1\ty\n")
    with pytest.raises(DataError, match=r"dev.tsv:1: the header names column\(s\) \['sentence'\] twice"):
        list(GlueReader(task="sst2").read(path))
