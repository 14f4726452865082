"""The `columns` reader: your own CSV, TSV and JSONL files, and its errors at file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mtdnn.config import build
from mtdnn.errors import ConfigurationError, DataError
from mtdnn.readers import ColumnsReader, Reader
from mtdnn.readers.columns import label_order
from mtdnn.registry import Registry


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _reader(registry: Registry, **options: Any) -> ColumnsReader:
    reader = build(registry, Reader, {"type": "columns", **options}, path="reader")
    assert isinstance(reader, ColumnsReader)
    return reader


def test_the_shipped_samples_read_and_collect_their_labels(repo_root: Path, registry: Registry) -> None:
    reviews = _reader(registry, text="review", label="sentiment", id="id")
    assert reviews.labels is None
    assert reviews.collect_labels(repo_root / "data/own_data/reviews/train.csv") == ["negative", "positive"]
    train = list(reviews.read(repo_root / "data/own_data/reviews/train.csv"))
    assert len(train) == 600 and train[1].id == "train-2"
    assert train[1].text_a == "contains no wit , only labored gags"  # a quoted field with a comma
    assert {e.label for e in train} == {"negative", "positive"}
    pairs = _reader(registry, text="premise", text_pair="hypothesis", label="label")
    dev = list(pairs.read(repo_root / "data/own_data/entailment/dev.jsonl"))
    assert len(dev) == 200 and dev[0].id == "1" and dev[0].text_b == "Christopher Reeve had an accident."


def test_csv_quoting_ids_and_label_maps(tmp_path: Path, registry: Registry) -> None:
    path = _write(
        tmp_path / "d.csv",
        '\ufeffscore,text,note\n2,"a, quoted ""text""",x\n\n10,"spans\ntwo lines",y\n1,plain,z\n',
    )
    reader = _reader(registry, text="text", label="score")
    assert reader.collect_labels(path) == ["1", "2", "10"]  # integers in numeric order
    examples = list(reader.read(path))
    assert [(e.id, e.text_a, e.label) for e in examples] == [
        ("2", 'a, quoted "text"', "2"),
        ("4", "spans\ntwo lines", "10"),  # the id is the line where the row starts
        ("6", "plain", "1"),
    ]
    renamed = _reader(registry, text="text", label="note", label_map={"x": "ex"})
    assert renamed.collect_labels(path) == ["ex", "y", "z"]
    assert label_order(["pos", "neg", "pos"]) == ["neg", "pos"]
    assert label_order(["2", "1", "+1", "01"]) == ["+1", "01", "1", "2"]  # equal numbers: by text


def test_tsv_without_header_and_literal_quotes(tmp_path: Path, registry: Registry) -> None:
    path = _write(tmp_path / "d.tsv", 'he said "hi\tpos\nbye\tneg\n')
    reader = _reader(registry, text=0, label=1, header=False)
    assert [(e.text_a, e.label) for e in reader.read(path)] == [('he said "hi', "pos"), ("bye", "neg")]
    with pytest.raises(ConfigurationError, match="columns are numbers, but the file has a header"):
        _reader(registry, text=0, label=1)


def test_jsonl_multilabel_and_regression(tmp_path: Path, registry: Registry) -> None:
    path = _write(
        tmp_path / "d.jsonl",
        "\n".join(
            json.dumps(r)
            for r in (
                {"id": 7, "t": "one", "tags": ["b", "a"], "tagged": "a|c", "y": "0.5"},
                {"id": 8, "t": "two", "tags": [], "tagged": "", "y": 3},
            )
        ),
    )
    listed = _reader(registry, text="t", label="tags", id="id", kind="multilabel")
    assert listed.collect_labels(path) == ["a", "b"]
    assert [(e.id, e.label) for e in listed.read(path)] == [("7", ["b", "a"]), ("8", [])]
    split = _reader(registry, text="t", label="tagged", kind="multilabel", label_separator="|")
    assert [e.label for e in split.read(path)] == [["a", "c"], []]
    real = _reader(registry, text="t", label="y", kind="regression")
    assert real.collect_labels(path) is None and [e.label for e in real.read(path)] == [0.5, 3.0]


@pytest.mark.parametrize(
    ("name", "content", "options", "message", "line"),
    [
        ("a.csv", "txt,label\nhi,pos\n", {}, "no column 'text' .*; did you mean 'txt'", 1),
        ("a.csv", "text,label\nhi,pos\nho,neg,extra\n", {}, "3 fields where the header has 2", 3),
        ("a.csv", 'text,label\n"open,pos\n', {}, "malformed CSV", 2),
        ("a.csv", b"text,label\nhi,pos\nh\xe9,neg\n", {}, "not UTF-8 text", 3),
        ("a.csv", "text,text\nhi,pos\n", {"label": None}, "names the columns \\['text'\\] more than once", 1),
        ("a.csv", "text,label\n  ,pos\n", {}, "column 'text' is empty", 2),
        ("a.csv", "id,text,label\n1,a,pos\n1,b,neg\n", {"id": "id"}, "id '1' was already used at line 2", 3),
        ("a.jsonl", '{"text": "a", "label": "pos"}\n{"text": "b"\n', {}, "not valid JSON", 2),
        ("a.jsonl", '{"text": "a", "label": "pos"}\n[1]\n', {}, "must be a JSON object", 2),
        ("a.jsonl", '{"text": "a", "label": "pos"}\n{"text": "b"}\n', {}, "no column 'label'", 2),
        ("a.jsonl", '{"text": "a", "label": ' + "[" * 100000 + "]" * 100000 + "}\n", {}, "nested", 1),
        ("a.jsonl", '{"text": 3, "label": "pos"}\n', {}, "column 'text' must be text", 1),
        ("a.csv", "text,label\nhi,high\n", {"kind": "regression"}, "'high' in column 'label' is not a", 2),
        (
            "a.csv",
            "text,label\nhi,4.5\nho,7.5\n",
            {"kind": "regression", "range": [0, 5]},
            "label 7.5 in column .label. is outside the range",
            3,
        ),
        ("a.csv", "text,label\nhi,pos\n", {"labels": ["neg"]}, "label 'pos' is not one of the task's", 2),
        ("a.csv", "", {}, "the file is empty", None),
        ("a.txt", "text,label\n", {}, "cannot tell the format from the suffix '.txt'", None),
    ],
)
def test_errors_name_the_file_and_line(
    tmp_path: Path,
    registry: Registry,
    name: str,
    content: str | bytes,
    options: dict[str, Any],
    message: str,
    line: int | None,
) -> None:
    path = _write(tmp_path / name, content)
    reader = _reader(registry, **{"text": "text", "label": "label", **options})
    with pytest.raises(DataError, match=message) as raised:
        list(reader.read(path))
    assert raised.value.file == str(path) and raised.value.line == line


def test_an_unknown_dev_label_is_refused_at_its_line(tmp_path: Path, registry: Registry) -> None:
    train = _write(tmp_path / "train.csv", "text,label\na,pos\nb,neg\n")
    dev = _write(tmp_path / "dev.csv", "text,label\nc,pos\nd,neutral\n")
    reader = _reader(registry, text="text", label="label")
    reader.collect_labels(train)
    with pytest.raises(DataError, match="label 'neutral' is not one of the task's labels") as raised:
        list(reader.read(dev))
    assert raised.value.line == 3
    assert [e.label for e in reader.without_labels().read(dev)] == [None, None]
    unlabelled = _write(tmp_path / "inputs.csv", "text\nc\n")
    assert [e.text_a for e in reader.without_labels().read(unlabelled)] == ["c"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"text": "a", "label": "a"}, "the same column is named twice"),
        ({"text": "a", "delimiter": ";;"}, "one character"),
        ({"text": "a", "label": "b", "kind": "regression", "labels": ["x"]}, "no labels to list"),
        ({"text": "a", "label": "b", "label_separator": "|"}, "for kind: 'multilabel'"),
        ({"text": "a", "labels": ["x"]}, "need a label column"),
        ({"text": "a", "label": "b", "labels": ["x", "x"]}, "duplicates"),
        ({"text": "a", "format": "xml"}, "format"),
    ],
)
def test_options_are_checked(registry: Registry, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        _reader(registry, **options)
