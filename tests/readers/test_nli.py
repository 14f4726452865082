"""Tests of the SNLI, SciTail, ANLI and QNLI-ranking readers on real data, fixtures and malformed input."""

from __future__ import annotations

import itertools
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mtdnn.api import load_config
from mtdnn.config.build import build
from mtdnn.errors import ConfigurationError, DataError
from mtdnn.hooks import get_plugin_manager
from mtdnn.readers import AnliReader, QnliRankingReader, Reader, SciTailReader, SnliReader
from mtdnn.readers.glue import GlueReader
from mtdnn.registry import Registry
from mtdnn.types import Example
from tests.conftest import shared_folder

NLI = ["contradiction", "entailment", "neutral"]


@pytest.fixture(scope="module")
def snli_dir(shared_data: Path) -> Path:
    """The SNLI folder of the shared data (head samples of the official dev and test files)."""
    return shared_folder(shared_data, "SNLI")


@pytest.fixture(scope="module")
def qnli_dir(glue_dir: Path) -> Path:
    """The GLUE QNLI folder of the shared data."""
    return shared_folder(glue_dir, "QNLI")


@pytest.fixture(scope="module")
def fixtures(repo_root: Path) -> Path:
    """The hand-made NLI fixture files (official layouts)."""
    return repo_root / "tests" / "fixtures" / "nli"


def _write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def _error_at(reader: Reader, path: Path, line: int | None, message: str) -> None:
    with pytest.raises(DataError) as caught:
        list(reader.read(path))
    where = f"{path}:{line}" if line is not None else f"{path}:"
    assert str(caught.value).startswith(where), str(caught.value)
    assert message in str(caught.value)
    assert caught.value.file == str(path)
    assert caught.value.line == line


# ---------------------------------------------------------------- SNLI


# split, lines in the file, '-' lines, per-label counts (MANIFEST.md), first pairID
SNLI_FILES = [
    ("dev", 1289, 16, {"entailment": 433, "neutral": 421, "contradiction": 419}, "4705552913.jpg#2r1n"),
    ("test", 1277, 23, {"entailment": 405, "neutral": 429, "contradiction": 420}, "2705099033.jpg#1r1c"),
]


@pytest.mark.parametrize(("split", "lines", "dashes", "counts", "first_id"), SNLI_FILES)
def test_real_snli_jsonl(
    snli_dir: Path,
    caplog: pytest.LogCaptureFixture,
    split: str,
    lines: int,
    dashes: int,
    counts: dict[str, int],
    first_id: str,
) -> None:
    path = snli_dir / f"snli_1.0_{split}.head.jsonl"
    with caplog.at_level(logging.INFO, logger="mtdnn.readers.snli"):
        examples = list(SnliReader().read(path))

    assert len(examples) == lines - dashes  # dev 1273, test 1254
    assert Counter(example.label for example in examples) == counts
    ids = [example.id for example in examples]
    assert len(set(ids)) == len(ids)
    assert examples[0].id == first_id
    assert all(example.text_b and example.group is None for example in examples)
    assert f"dropped {dashes} without a gold label" in caplog.text


def test_snli_first_dev_example(snli_dir: Path) -> None:
    first = next(SnliReader().read(snli_dir / "snli_1.0_dev.head.jsonl"))
    assert first == Example(
        id="4705552913.jpg#2r1n",
        text_a="Two women are embracing while holding to go packages.",
        text_b="The sisters are hugging goodbye while holding to go packages after just eating lunch.",
        label="neutral",
    )


def test_snli_labels() -> None:
    reader = SnliReader()
    assert reader.labels == NLI
    assert reader.labels == GlueReader("mnli").labels


def test_snli_txt_fixture_matches_the_real_jsonl(fixtures: Path, snli_dir: Path) -> None:
    # The fixture holds real dev records 1-5 and 67 (gold label '-') in the .txt layout.
    from_txt = list(SnliReader().read(fixtures / "snli_1.0_dev.txt"))
    from_jsonl = list(SnliReader().read(snli_dir / "snli_1.0_dev.head.jsonl"))
    assert len(from_txt) == 5
    assert from_txt == from_jsonl[:5]
    assert "3184031654.jpg#0r1e" not in {example.id for example in from_txt}


def test_snli_explicit_format_overrides_the_suffix(fixtures: Path, tmp_path: Path) -> None:
    copy = tmp_path / "dev.data"
    copy.write_bytes((fixtures / "snli_1.0_dev.txt").read_bytes())
    assert len(list(SnliReader(format="txt").read(copy))) == 5
    assert len(list(SnliReader().read(copy))) == 5  # unknown suffix: sniffed (not a JSON object)
    with pytest.raises(DataError, match=r"dev\.data:1: not valid JSON"):
        list(SnliReader(format="jsonl").read(copy))


def test_snli_unknown_suffix_with_json_lines_is_sniffed(tmp_path: Path) -> None:
    path = _write_jsonl(
        tmp_path / "dev.json",
        [{"gold_label": "entailment", "sentence1": " A b. ", "sentence2": "C.", "pairID": "p1"}],
    )
    assert list(SnliReader().read(path)) == [Example(id="p1", text_a="A b.", text_b="C.", label="entailment")]


def test_snli_txt_columns_found_by_name(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text(
        "pairID\tsentence2\tgold_label\tsentence1\n\nq7\tA cat sleeps.\tneutral\tA cat lies down.\n",
        encoding="utf-8",
    )
    assert list(SnliReader().read(path)) == [
        Example(id="q7", text_a="A cat lies down.", text_b="A cat sleeps.", label="neutral")
    ]


GOOD = {"gold_label": "neutral", "sentence1": "a", "sentence2": "b", "pairID": "p0"}


@pytest.mark.parametrize(
    ("records", "line", "message"),
    [
        ([GOOD, {**GOOD, "pairID": "p1", "gold_label": "entails"}], 2, "gold_label 'entails' is not one of"),
        ([GOOD, GOOD], 2, "duplicate pairID 'p0'"),
        ([GOOD, {k: v for k, v in GOOD.items() if k != "sentence2"}], 2, "missing field 'sentence2'"),
        ([GOOD, {**GOOD, "pairID": 3}], 2, "field 'pairID' must be a string"),
        ([GOOD, [1, 2]], 2, "expected a JSON object, got list"),
        ([{**GOOD, "gold_label": "-"}], None, "no labelled examples"),
    ],
)
def test_snli_malformed_jsonl(tmp_path: Path, records: list[Any], line: int | None, message: str) -> None:
    _error_at(SnliReader(), _write_jsonl(tmp_path / "bad.jsonl", records), line, message)


def test_snli_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(GOOD) + "\n\n" + '{"gold_label": "neutral",\n', encoding="utf-8")
    _error_at(SnliReader(), path, 3, "not valid JSON")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("gold_label\tsentence1\tpairID\nneutral\ta\tp\n", 1, "lacks column(s) ['sentence2']"),
        ("gold_label\tsentence1\tsentence2\tpairID\nneutral\ta\tb\tp\nneutral\ta\tb\n", 3, "at least 4"),
        ("", 1, "the file is empty"),
    ],
)
def test_snli_malformed_txt(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(text, encoding="utf-8")
    _error_at(SnliReader(), path, line, message)


# ---------------------------------------------------------------- SciTail

SCITAIL_LABELS = ["neutral", "entails", "entails", "neutral", "entails"]


def test_scitail_tsv_fixture(fixtures: Path) -> None:
    examples = list(SciTailReader().read(fixtures / "scitail_1.0_dev.tsv"))
    assert [example.id for example in examples] == [f"scitail_1.0_dev-{row}" for row in range(1, 6)]
    assert [example.label for example in examples] == SCITAIL_LABELS
    assert examples[0] == Example(
        id="scitail_1.0_dev-1",
        text_a="Pluto rotates once on its axis every 6.39 Earth days;",
        text_b="Earth rotates on its axis once times in one day.",
        label="neutral",
    )
    assert examples[3].text_a.startswith('A "food web"')  # quotes are literal


def test_scitail_snli_format_matches_tsv_format(fixtures: Path) -> None:
    # snli_format files end in .txt but hold JSON lines, and spell the positive class 'entailment'.
    tsv = list(SciTailReader().read(fixtures / "scitail_1.0_dev.tsv"))
    jsonl = list(SciTailReader().read(fixtures / "scitail_1.0_dev.txt"))
    assert jsonl == tsv
    assert jsonl == list(SciTailReader(format="jsonl").read(fixtures / "scitail_1.0_dev.txt"))


def test_scitail_labels() -> None:
    assert SciTailReader().labels == ["entails", "neutral"]


def test_scitail_jsonl_uses_pair_id_when_present(tmp_path: Path) -> None:
    path = _write_jsonl(
        tmp_path / "scitail.jsonl",
        [
            {"sentence1": "P.", "sentence2": "H.", "gold_label": "entails", "pairID": "s1"},
            {"sentence1": "Q.", "sentence2": "I.", "gold_label": "neutral"},
        ],
    )
    assert [(example.id, example.label) for example in SciTailReader().read(path)] == [
        ("s1", "entails"),
        ("scitail-2", "neutral"),
    ]


@pytest.mark.parametrize(
    ("name", "text", "line", "message"),
    [
        ("a.tsv", "p\th\tentails\np\th\tcontradiction\n", 2, "label 'contradiction' is not one of"),
        ("a.tsv", "p\th\tentails\n\np\th\n", 3, "expected 3 tab-separated columns"),
        ("a.tsv", "\n\n", None, "no examples"),
        ("a.txt", '{"sentence1": "p", "sentence2": "h", "gold_label": "yes"}\n', 1, "gold_label 'yes'"),
        ("a.jsonl", '{"sentence1": "p", "gold_label": "neutral"}\n', 1, "missing field 'sentence2'"),
    ],
)
def test_scitail_malformed(tmp_path: Path, name: str, text: str, line: int | None, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    _error_at(SciTailReader(), path, line, message)


# ---------------------------------------------------------------- ANLI


def test_anli_round_files(fixtures: Path) -> None:
    reader = AnliReader()
    r1 = list(reader.read(fixtures / "anli" / "R1" / "dev.jsonl"))
    r3 = list(reader.read(fixtures / "anli" / "R3" / "dev.jsonl"))
    assert [example.label for example in r1] == ["entailment", "contradiction", "neutral", "entailment"]
    assert [example.label for example in r3] == ["entailment", "contradiction", "neutral"]
    assert r1[0] == Example(
        id="5f2b1c8e-3a41-4d0c-9b7e-1f0a2c3d4e51",
        text_a="The Iron Bridge crosses the River Severn in Shropshire, England. Opened in 1781, it was "
        "the first major bridge in the world to be made of cast iron.",
        text_b="The Iron Bridge was opened in the eighteenth century.",
        label="entailment",
    )
    ids = [example.id for example in r1 + r3]
    assert len(set(ids)) == len(ids)
    assert r3[0].text_a.startswith('Post: "Just finished')


def test_anli_labels_keep_the_nli_order() -> None:
    assert AnliReader().labels == NLI == SnliReader().labels


@pytest.mark.parametrize(
    ("records", "line", "message"),
    [
        ([{"uid": "u", "context": "c", "hypothesis": "h", "label": "entailment"}], 1, "label 'entailment'"),
        ([{"uid": "u", "context": "c", "hypothesis": "h", "label": "e"}] * 2, 2, "duplicate uid 'u'"),
        ([{"uid": "u", "premise": "c", "hypothesis": "h", "label": "e"}], 1, "missing field 'context'"),
    ],
)
def test_anli_malformed(tmp_path: Path, records: list[Any], line: int, message: str) -> None:
    _error_at(AnliReader(), _write_jsonl(tmp_path / "train.jsonl", records), line, message)


# ---------------------------------------------------------------- QNLI as ranking groups


def test_qnli_dev_groups(qnli_dir: Path) -> None:
    reader = QnliRankingReader()
    examples = list(reader.read(qnli_dir / "dev.tsv"))
    assert len(examples) == 5463
    assert all(example.group == example.text_a for example in examples)
    # Same ids, texts and labels as the glue reader; only the group is added.
    plain = list(GlueReader("qnli").read(qnli_dir / "dev.tsv"))
    assert [(e.id, e.text_a, e.text_b, e.label) for e in examples] == [
        (e.id, e.text_a, e.text_b, e.label) for e in plain
    ]

    members: dict[str, list[str]] = {}
    for example in examples:
        assert isinstance(example.label, str)
        members.setdefault(example.text_a, []).append(example.label)
    # Real QNLI dev: 4100 questions; 2738 with one candidate, 1361 with two, 1 with three.
    assert len(members) == 4100
    assert Counter(len(labels) for labels in members.values()) == {1: 2738, 2: 1361, 3: 1}
    # Every question with several candidates has exactly one entailing sentence.
    assert all(labels.count("entailment") == 1 for labels in members.values() if len(labels) > 1)
    # Rows of one question are not adjacent: only one pair of neighbouring rows shares a question.
    adjacent = sum(a.group == b.group for a, b in itertools.pairwise(examples))
    assert adjacent == 1


def test_qnli_test_split_is_grouped_and_unlabelled(qnli_dir: Path) -> None:
    examples = list(QnliRankingReader().read(qnli_dir / "test.tsv"))
    assert len(examples) == 5463
    assert all(example.label is None and example.group == example.text_a for example in examples)


def test_qnli_ranking_labels() -> None:
    assert QnliRankingReader().labels == ["entailment", "not_entailment"]


# ---------------------------------------------------------------- registry


@pytest.mark.parametrize(
    ("config", "cls"),
    [
        ({"type": "snli"}, SnliReader),
        ({"type": "snli", "format": "txt"}, SnliReader),
        ({"type": "scitail", "format": "tsv"}, SciTailReader),
        ("anli", AnliReader),
        ("qnli_ranking", QnliRankingReader),
    ],
)
def test_readers_build_from_config(registry: Registry, config: Any, cls: type) -> None:
    reader = build(registry, Reader, config, path="tasks.x.reader")
    assert isinstance(reader, cls)


def test_bad_format_is_a_config_error(registry: Registry) -> None:
    with pytest.raises(ConfigurationError, match=r"tasks\.x\.reader\.format: invalid value 'json'"):
        build(registry, Reader, {"type": "scitail", "format": "json"}, path="tasks.x.reader")


def test_nli_libsonnet_tasks_read_the_fixtures(tmp_path: Path, fixtures: Path, registry: Registry) -> None:
    config_path = tmp_path / "nli.jsonnet"
    config_path.write_text(
        "local nli = import 'nli.libsonnet';\n"
        "function(dir) { tasks: {\n"
        "  snli: nli.snli(dir + '/snli', batch_size=16),\n"
        "  scitail: nli.scitail(dir, train_limit=100),\n"
        "  anli: nli.anli(dir + '/anli', round='R3'),\n"
        "} }\n",
        encoding="utf-8",
    )
    config = load_config(config_path, get_plugin_manager(autoload=False), tla_str={"dir": str(fixtures)})
    tasks = config["tasks"]
    assert tasks["snli"]["reader"] == {"type": "snli"}
    assert tasks["snli"]["dev"] == f"{fixtures}/snli/snli_1.0_dev.jsonl"
    assert tasks["snli"]["batch_size"] == 16
    assert tasks["scitail"]["train"] == f"{fixtures}/scitail_1.0_train.tsv"
    assert tasks["scitail"]["train_limit"] == 100
    assert "train_limit" not in tasks["anli"]
    assert tasks["anli"]["metrics"] == [{"type": "accuracy"}]
    for name, count in (("scitail", 5), ("anli", 3)):
        reader = build(registry, Reader, tasks[name]["reader"], path=f"tasks.{name}.reader")
        assert len(list(reader.read(tasks[name]["dev"]))) == count
