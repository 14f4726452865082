"""Unlabelled text readers for masked-LM tasks: raw text files and the texts of another task's file."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtdnn.errors import DataError
from mtdnn.readers.glue import GlueReader
from mtdnn.readers.text import TaskTextsReader, TextReader


def test_one_example_per_non_blank_line_with_file_and_line_ids(tmp_path: Path) -> None:
    path = tmp_path / "corpus.txt"
    path.write_text("  The first sentence.  \n\n\t\nA second one.\n", encoding="utf-8")
    examples = list(TextReader().read(path))
    assert [(e.id, e.text_a, e.text_b, e.label) for e in examples] == [
        ("corpus:1", "The first sentence.", None, None),
        ("corpus:4", "A second one.", None, None),
    ]
    assert TextReader().labels is None


def test_missing_and_non_utf8_files_are_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        list(TextReader().read(tmp_path / "absent.txt"))
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8") as caught:
        list(TextReader().read(path))
    assert caught.value.file == str(path) and caught.value.line == 1


def test_task_texts_split_each_pair_into_two_unlabelled_examples(repo_root: Path) -> None:
    path = repo_root / "data" / "quickstart" / "rte" / "train.tsv"
    pairs = list(GlueReader(task="rte").read(path))
    texts = list(TaskTextsReader(GlueReader(task="rte")).read(path))
    assert len(texts) == 2 * len(pairs) == 800
    assert [(t.id, t.text_a) for t in texts[:2]] == [
        (f"{pairs[0].id}:a", pairs[0].text_a),
        (f"{pairs[0].id}:b", pairs[0].text_b),
    ]
    assert all(t.label is None and t.text_b is None for t in texts)
    sentences = list(
        TaskTextsReader(GlueReader(task="sst2")).read(
            repo_root / "data" / "quickstart" / "sst2" / "train.tsv"
        )
    )
    assert len(sentences) == 600 and sentences[0].id.endswith(":a")
