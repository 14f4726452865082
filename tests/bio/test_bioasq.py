"""Tests of the BioASQ reader (SQuAD layout plus golden file) on small files and the real batches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mtdnn.config.build import build
from mtdnn.errors import ConfigurationError, DataError
from mtdnn.readers.base import Reader
from mtdnn.registry import Registry
from mtdnn.types import Answer, Example, SpanPrediction
from mtdnn_bio.metrics import BioAsqFactoid
from mtdnn_bio.readers import BioAsqReader, read_golden
from tests.conftest import shared_folder

Q1 = "5a7d51dafaa1ab7d2e000017"
Q2 = "5a6e47b1b750ff4455000049"

# Pairs (answerable by a substring count of the stripped golden answers) and questions per batch.
# 4b-5 has one question whose only golden answer is " ", so none of its pairs is answerable.
ANSWERABLE = {
    "4b-1": (67, 34),
    "4b-2": (62, 20),
    "4b-3": (29, 17),
    "4b-4": (60, 25),
    "4b-5": (50, 21),
    "5b-1": (53, 19),
    "5b-2": (65, 23),
    "5b-3": (46, 21),
    "5b-4": (55, 26),
    "5b-5": (52, 30),
}


def _squad(path: Path, pairs: list[tuple[str, str, str]]) -> Path:
    """Write a BioBERT-style SQuAD file: one paragraph per (pair id, question, context)."""
    paragraphs = [{"context": context, "qas": [{"id": pid, "question": q}]} for pid, q, context in pairs]
    path.write_text(json.dumps({"version": "BioASQ6b", "data": [{"title": "t", "paragraphs": paragraphs}]}))
    return path


def _golden(path: Path, questions: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"questions": questions}), encoding="utf-8")
    return path


@pytest.fixture
def batch(tmp_path: Path) -> tuple[Path, Path]:
    """A tiny batch: question 1 has two snippets, question 2 one; the golden file also has a yes/no one."""
    squad = _squad(
        tmp_path / "test.json",
        [
            (f"{Q1}_001", " Which gene is mutated? ", "Mutations in brca1 and BRCA1-like genes."),
            (f"{Q1}_002", "Which gene is mutated?", "No answer in this snippet."),
            (f"{Q2}_001", "Which hormone?", "Insulin lowers glucose; insulin is a hormone."),
        ],
    )
    golden = _golden(
        tmp_path / "golden.json",
        [
            {"id": Q1, "type": "factoid", "exact_answer": [["BRCA1", "breast cancer 1"], ["brca1 "]]},
            {"id": Q2, "type": "factoid", "exact_answer": [" insulin", "", "INSULIN"]},
            {"id": "yesno", "type": "yesno", "exact_answer": "yes"},
        ],
    )
    return squad, golden


def test_bioasq_reads_pairs_with_golden_answers(batch: tuple[Path, Path]) -> None:
    squad, golden = batch
    examples = list(BioAsqReader(golden=str(golden)).read(squad))
    assert [(e.id, e.group) for e in examples] == [(f"{Q1}_001", Q1), (f"{Q1}_002", Q1), (f"{Q2}_001", Q2)]
    first = examples[0]
    assert first.text_a == "Which gene is mutated?"  # stripped
    assert first.text_b == "Mutations in brca1 and BRCA1-like genes."  # kept exactly
    # Synonym lists flattened, stripped and de-duplicated ignoring case ("brca1 " = "BRCA1"); found
    # answers first, spelled as in the context at the first case-insensitive occurrence.
    assert first.answers == (Answer("brca1", 13), Answer("breast cancer 1", -1))
    assert examples[1].answers == (Answer("BRCA1", -1), Answer("breast cancer 1", -1))
    # A list of strings (not of lists) works too; the empty string is dropped.
    assert examples[2].answers == (Answer("Insulin", 0),)
    assert BioAsqReader().labels is None


def test_bioasq_without_golden_is_unlabelled(batch: tuple[Path, Path]) -> None:
    examples = list(BioAsqReader().read(batch[0]))
    assert [e.answers for e in examples] == [None, None, None]
    assert [e.group for e in examples] == [Q1, Q1, Q2]


def test_bioasq_answerable_only_keeps_found_answers(batch: tuple[Path, Path]) -> None:
    squad, golden = batch
    examples = list(BioAsqReader(golden=str(golden), answerable_only=True).read(squad))
    assert [(e.id, e.answers) for e in examples] == [
        (f"{Q1}_001", (Answer("brca1", 13),)),
        (f"{Q2}_001", (Answer("Insulin", 0),)),
    ]


def test_bioasq_answerable_only_needs_golden() -> None:
    with pytest.raises(ConfigurationError, match="no golden file is given"):
        BioAsqReader(answerable_only=True)


def test_bioasq_nothing_answerable_is_an_error(tmp_path: Path) -> None:
    squad = _squad(tmp_path / "t.json", [(f"{Q1}_001", "q?", "nothing here")])
    golden = _golden(tmp_path / "g.json", [{"id": Q1, "exact_answer": [["BRCA1"]]}])
    with pytest.raises(DataError, match=r"no question-snippet pair is left \(1 pairs have no gold answer"):
        list(BioAsqReader(golden=str(golden), answerable_only=True).read(squad))


def test_bioasq_question_missing_from_golden(tmp_path: Path) -> None:
    squad = _squad(tmp_path / "t.json", [(f"{Q1}_001", "q?", "c"), (f"{Q2}_001", "q?", "c")])
    golden = _golden(tmp_path / "g.json", [{"id": Q1, "exact_answer": [["x"]]}])
    with pytest.raises(
        DataError, match=rf"paragraphs\[1\], qas\[0\] \(id '{Q2}_001'\): question '{Q2}' is not in"
    ) as info:
        list(BioAsqReader(golden=str(golden)).read(squad))
    assert str(info.value).startswith(str(squad))
    assert str(golden) in str(info.value)


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("no-number", "q?", "c")], r"a pair id must be '<question id>_<number>'"),
        (
            [(f"{Q1}_001", "q?", "c"), (f"{Q1}_001", "q?", "d")],
            r"paragraphs\[1\], qas\[0\] .*duplicate pair id",
        ),
    ],
)
def test_bioasq_bad_pair_ids(tmp_path: Path, pairs: list[tuple[str, str, str]], message: str) -> None:
    with pytest.raises(DataError, match=message):
        list(BioAsqReader().read(_squad(tmp_path / "t.json", pairs)))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"data": [', r":1: not valid JSON"),
        ('{"data": {}}', r"'data' must be a list, got dict"),
        (
            '{"data": [{"paragraphs": [{"qas": []}]}]}',
            r"data\[0\], paragraphs\[0\]: missing key 'context'",
        ),
        ('{"data": [{"paragraphs": [{"context": "c", "qas": [{"id": 3}]}]}]}', r"'id' must be a string"),
        (
            '{"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "a_1"}]}]}]}',
            r"missing key 'question'",
        ),
    ],
)
def test_bioasq_malformed_squad_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message) as info:
        list(BioAsqReader().read(path))
    assert str(info.value).startswith(str(path))


def test_read_golden_shapes_and_errors(tmp_path: Path) -> None:
    golden = _golden(
        tmp_path / "g.json",
        [
            {"id": "f", "type": "factoid", "exact_answer": [["A", "a"], ["B"]]},
            {"id": "y", "type": "yesno", "exact_answer": "yes"},
            {"id": "s", "type": "summary"},
        ],
    )
    assert read_golden(golden) == {"f": ("A", "B"), "y": ("yes",), "s": ()}
    bad = _golden(tmp_path / "bad.json", [{"id": "f", "exact_answer": [[1]]}])
    with pytest.raises(DataError, match=r"questions\[0\] \(id 'f'\): 'exact_answer' must hold strings"):
        read_golden(bad)
    twice = _golden(tmp_path / "twice.json", [{"id": "f"}, {"id": "f"}])
    with pytest.raises(DataError, match=r"questions\[1\]: duplicate question id 'f'"):
        read_golden(twice)
    with pytest.raises(DataError, match="no such file"):
        read_golden(tmp_path / "missing.json")


def test_bioasq_reader_builds_from_config(registry: Registry, batch: tuple[Path, Path]) -> None:
    registry.add(Reader, "bioasq", BioAsqReader)
    config = {"type": "bioasq", "golden": str(batch[1]), "answerable_only": True}
    reader = build(registry, Reader, config, path="tasks.bioasq.reader")
    assert isinstance(reader, BioAsqReader)
    assert (reader.golden, reader.answerable_only) == (str(batch[1]), True)


# Real data ------------------------------------------------------------------------------------------


def _oracle(example: Example) -> SpanPrediction:
    """What a perfect span extractor predicts for one snippet: the gold answers found in it."""
    found = [answer for answer in example.answers or () if answer.start >= 0]
    nbest = tuple((answer.text, 1.0 / rank) for rank, answer in enumerate(found, 1))
    return SpanPrediction(
        text=found[0].text if found else "", start=found[0].start if found else -1, nbest=nbest
    )


def test_bioasq_6b1_real_batch(shared_data: Path) -> None:
    folder = shared_folder(shared_data, "BioASQ")
    golden = str(folder / "6B1_golden.json")
    examples = list(BioAsqReader(golden=golden).read(folder / "BioASQ-test-factoid-6b-1.json"))
    questions = {example.group for example in examples}
    assert (len(examples), len(questions)) == (121, 31)
    assert all(example.answers for example in examples)  # every question has gold answers
    for example in examples:
        for answer in example.answers or ():
            assert answer.start == -1 or example.text_b[answer.start : answer.end] == answer.text
    answerable = {e.group for e in examples if any(a.start >= 0 for a in e.answers or ())}
    assert len(answerable) == 25

    # A perfect oracle scores 1 on every question whose answer occurs in one of its snippets...
    kept = [example for example in examples if example.group in answerable]
    metric = BioAsqFactoid()
    metric.add([_oracle(example) for example in kept], kept)
    assert metric.compute() == {
        "mrr": 1.0,
        "strict_accuracy": 1.0,
        "lenient_accuracy": 1.0,
        "questions": 25.0,
    }
    # ... and 0 on the others: over the whole batch every score is 25/31.
    metric = BioAsqFactoid()
    metric.add([_oracle(example) for example in examples], examples)
    scores = metric.compute()
    assert scores["questions"] == 31.0
    assert scores["mrr"] == scores["strict_accuracy"] == scores["lenient_accuracy"] == pytest.approx(25 / 31)


def test_bioasq_4b_5b_training_stand_in(shared_data: Path) -> None:
    folder = shared_folder(shared_data, "BioASQ")
    test_questions = {e.group for e in BioAsqReader().read(folder / "BioASQ-test-factoid-6b-1.json")}
    for name, (pairs, questions) in ANSWERABLE.items():
        year, number = name.split("-")
        golden = str(folder / f"{year.upper()}{number}_golden.json")
        reader = BioAsqReader(golden=golden, answerable_only=True)
        examples = list(reader.read(folder / f"BioASQ-test-factoid-{name}.json"))
        groups = {example.group for example in examples}
        assert (name, len(examples), len(groups)) == (name, pairs, questions)
        assert all(example.answers and all(a.start >= 0 for a in example.answers) for example in examples)
        assert not groups & test_questions
