"""Tests of the SQuAD reader on hand-made files, malformed input and the shared SQuAD 2.0 / BioASQ data."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from mtdnn.errors import ConfigurationError, DataError
from mtdnn.readers.squad import SquadReader
from mtdnn.types import Answer, Example
from tests.conftest import shared_folder

NORMANS = "The Normans gave their name to Normandy, a region in France."
SKY = "Sky UK Limited is a British broadcaster."

SQUAD: dict[str, Any] = {
    "version": "v2.0",
    "data": [
        {
            "title": "Normans",
            "paragraphs": [
                {
                    "context": NORMANS,
                    "qas": [
                        {
                            "id": "q1",
                            "question": "  In what country is Normandy located?\n",
                            "answers": [
                                {"text": "France", "answer_start": 53},
                                {"text": "France", "answer_start": 53},
                                {"text": "in France", "answer_start": 50},
                            ],
                            "is_impossible": False,
                        },
                        {
                            "id": "q2",
                            "question": "Who gave their name to Sky?",
                            "answers": [],
                            "plausible_answers": [{"text": "The Normans", "answer_start": 0}],
                            "is_impossible": True,
                        },
                    ],
                }
            ],
        },
        {
            "title": "Sky",
            "paragraphs": [
                {
                    "context": SKY,
                    "qas": [
                        {
                            "id": "q3",
                            "question": "Who is Sky UK?",
                            "answers": [{"text": "a British", "answer_start": 18}],
                        },
                        {"id": "q4", "question": "Is it Welsh?", "answers": []},
                        {"id": "q5", "question": "What is Sky UK?"},
                    ],
                }
            ],
        },
    ],
}

EXPECTED = [
    Example(
        id="q1",
        text_a="In what country is Normandy located?",
        text_b=NORMANS,
        answers=(Answer("France", 53), Answer("France", 53), Answer("in France", 50)),
    ),
    Example(id="q2", text_a="Who gave their name to Sky?", text_b=NORMANS, answers=()),
    Example(id="q3", text_a="Who is Sky UK?", text_b=SKY, answers=(Answer("a British", 18),)),
    Example(id="q4", text_a="Is it Welsh?", text_b=SKY, answers=()),
    Example(id="q5", text_a="What is Sky UK?", text_b=SKY, answers=None),
]


def _write(tmp_path: Path, data: Any, name: str = "squad.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _edited(**changes: Any) -> dict[str, Any]:
    """A deep copy of ``SQUAD`` with ``q1`` updated by ``changes`` (a ``None`` value deletes the key)."""
    data = copy.deepcopy(SQUAD)
    qa = data["data"][0]["paragraphs"][0]["qas"][0]
    for key, value in changes.items():
        if value is None:
            del qa[key]
        else:
            qa[key] = value
    return data


def _error(reader: SquadReader, path: Path, *parts: str) -> DataError:
    with pytest.raises(DataError) as caught:
        list(reader.read(path))
    message = str(caught.value)
    where = f"{path}:{caught.value.line}" if caught.value.line is not None else str(path)
    assert message.startswith(f"{where}: "), message
    assert caught.value.file == str(path)
    for part in parts:
        assert part in message, message
    return caught.value


# ---------------------------------------------------------------- well-formed files


def test_round_trip(tmp_path: Path) -> None:
    reader = SquadReader()
    assert list(reader.read(_write(tmp_path, SQUAD))) == EXPECTED
    assert reader.labels is None


def test_answers_stay_aligned_with_the_context(tmp_path: Path) -> None:
    for example in SquadReader().read(_write(tmp_path, SQUAD)):
        assert example.text_b is not None
        for answer in example.answers or ():
            assert example.text_b[answer.start : answer.end] == answer.text


def test_skip_impossible_keeps_answerable_and_unlabelled(tmp_path: Path) -> None:
    examples = list(SquadReader(skip_impossible=True).read(_write(tmp_path, SQUAD)))
    assert [example.id for example in examples] == ["q1", "q3", "q5"]


def test_reads_a_byte_order_mark_and_accepts_a_str_path(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(SQUAD), encoding="utf-8-sig")
    assert list(SquadReader().read(str(path))) == EXPECTED


def test_logs_the_counts(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="mtdnn.readers.squad"):
        list(SquadReader().read(_write(tmp_path, SQUAD)))
    assert "read 5 SQuAD questions" in caplog.text
    assert "2 answerable, 2 unanswerable, 1 unlabelled" in caplog.text


# ---------------------------------------------------------------- misaligned answers


def _misaligned() -> dict[str, Any]:
    return _edited(
        answers=[{"text": "France", "answer_start": 52}, {"text": "in France", "answer_start": 50}]
    )


def test_bad_offset_names_file_article_and_question(tmp_path: Path) -> None:
    path = _write(tmp_path, _misaligned())
    error = _error(
        SquadReader(),
        path,
        "data[0] (title 'Normans'), paragraphs[0], qas[0] (id 'q1'), answers[0]",
        "'France' is not at answer_start 52",
        "found ' Franc'",
    )
    assert error.line is None


def test_misaligned_text_only_keeps_the_text(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mtdnn.readers.squad"):
        examples = list(SquadReader(misaligned="text_only").read(_write(tmp_path, _misaligned())))
    assert examples[0].answers == (Answer("France", -1), Answer("in France", 50))
    assert "1 answer(s) of" in caplog.text
    assert "(misaligned: 'text_only'); 0 question(s) were dropped" in caplog.text


def test_misaligned_drop_leaves_out_the_answer_then_the_question(tmp_path: Path) -> None:
    first = next(iter(SquadReader(misaligned="drop").read(_write(tmp_path, _misaligned()))))
    assert first.answers == (Answer("in France", 50),)
    lost = _edited(answers=[{"text": "France", "answer_start": 0}])
    examples = list(SquadReader(misaligned="drop").read(_write(tmp_path, lost)))
    assert [example.id for example in examples] == ["q2", "q3", "q4", "q5"]


def test_unknown_misaligned_choice_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="'error', 'text_only', 'drop'"):
        SquadReader(misaligned="fix")  # type: ignore[arg-type]


# ---------------------------------------------------------------- malformed files


def test_missing_key_names_the_place(tmp_path: Path) -> None:
    data = copy.deepcopy(SQUAD)
    del data["data"][1]["paragraphs"][0]["context"]
    _error(
        SquadReader(), _write(tmp_path, data), "data[1] (title 'Sky'), paragraphs[0]", "missing key 'context'"
    )
    _error(
        SquadReader(), _write(tmp_path, _edited(question=None)), "qas[0] (id 'q1')", "missing key 'question'"
    )
    _error(SquadReader(), _write(tmp_path, {"version": "v2.0"}), "the top-level object", "missing key 'data'")
    answer_without_start = _edited(answers=[{"text": "France"}])
    _error(SquadReader(), _write(tmp_path, answer_without_start), "answers[0]", "missing key 'answer_start'")


def test_wrong_types_name_the_place(tmp_path: Path) -> None:
    cases: list[tuple[Any, str]] = [
        ([SQUAD], "expected a JSON object with a 'data' list, got list"),
        ({"data": {"title": "x"}}, "'data' must be a list, got dict"),
        (_edited(id=17), "'id' must be a string, got int 17"),
        (_edited(answers={"text": "France"}), "qas[0] (id 'q1'): 'answers' must be a list"),
        (
            _edited(answers=[{"text": "France", "answer_start": "53"}]),
            "'answer_start' must be a character offset",
        ),
        (_edited(answers=[{"text": "France", "answer_start": -1}]), "got -1"),
        (_edited(answers=["France"]), "answers[0]: expected an answer object, got str"),
        (_edited(is_impossible="no"), "'is_impossible' must be true or false, got 'no'"),
    ]
    for data, part in cases:
        _error(SquadReader(), _write(tmp_path, data), part)


def test_impossible_question_with_answers_is_an_error(tmp_path: Path) -> None:
    _error(SquadReader(), _write(tmp_path, _edited(is_impossible=True)), "(id 'q1')", "marked is_impossible")


def test_empty_answer_text_is_an_error(tmp_path: Path) -> None:
    data = _edited(answers=[{"text": "", "answer_start": 0}])
    _error(SquadReader(), _write(tmp_path, data), "(id 'q1'), answers[0]", "answer text is empty")


def test_duplicate_question_id(tmp_path: Path) -> None:
    data = copy.deepcopy(SQUAD)
    data["data"][1]["paragraphs"][0]["qas"][1]["id"] = "q2"
    _error(
        SquadReader(),
        _write(tmp_path, data),
        "data[1] (title 'Sky'), paragraphs[0], qas[1]: duplicate question id 'q2'",
        "first at data[0] (title 'Normans'), paragraphs[0], qas[1]",
    )


def test_missing_file(tmp_path: Path) -> None:
    _error(SquadReader(), tmp_path / "absent.json", "no such file")


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"data": [\n  {"title": "x",,}\n]}', encoding="utf-8")
    error = _error(SquadReader(), path, "not valid JSON")
    assert error.line == 2


def test_no_questions_left(tmp_path: Path) -> None:
    _error(SquadReader(), _write(tmp_path, {"version": "v2.0", "data": []}), "the file holds no questions")
    only_impossible = {
        "data": [{"paragraphs": [{"context": "c", "qas": [{"id": "x", "question": "q", "answers": []}]}]}]
    }
    _error(
        SquadReader(skip_impossible=True),
        _write(tmp_path, only_impossible),
        "1 unanswerable ones were skipped",
    )


# ---------------------------------------------------------------- shared data


def test_real_squad_v2_dev_subset(shared_data: Path) -> None:
    path = shared_folder(shared_data, "SQuAD-v2.0-dev-subset") / "dev-v2.0.first5articles.json"
    examples = list(SquadReader().read(path))
    assert len(examples) == 1407
    assert sum(1 for example in examples if example.answers) == 705
    assert sum(1 for example in examples if example.answers == ()) == 702
    assert len({example.id for example in examples}) == 1407
    for example in examples:
        assert example.text_b is not None and example.text_a
        for answer in example.answers or ():
            assert example.text_b[answer.start : answer.end] == answer.text
    first = examples[0]
    assert (first.id, first.text_a) == ("56ddde6b9a695914005b9628", "In what country is Normandy located?")
    assert first.answers == (Answer("France", 159),) * 4
    answerable = list(SquadReader(skip_impossible=True).read(path))
    assert answerable == [example for example in examples if example.answers]


def test_real_bioasq_test_file_is_unlabelled(shared_data: Path) -> None:
    path = shared_folder(shared_data, "BioASQ") / "BioASQ-test-factoid-6b-1.json"
    examples = list(SquadReader().read(path))
    assert len(examples) == 121
    assert all(example.answers is None for example in examples)
    assert examples[0].id == "5a6a3335b750ff4455000025_000"
