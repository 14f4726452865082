"""Tests of the official SQuAD metric: normalization, exact match, token F1 and the v2.0 split."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtdnn.errors import ConfigurationError
from mtdnn.metrics.squad import SquadMetric, exact_match, f1_score, normalize_answer
from mtdnn.readers.squad import SquadReader
from mtdnn.types import Answer, Example, SpanPrediction
from tests.conftest import shared_folder

ALL_KEYS = ["f1", "exact", "HasAns_f1", "HasAns_exact", "NoAns_f1", "NoAns_exact"]


def _example(id: str, *golds: str) -> Example:
    """An answerable example (``golds`` given) or an unanswerable one (no ``golds``)."""
    context = " ".join(golds) or "some context"
    answers = tuple(Answer(text=gold, start=context.index(gold)) for gold in golds)
    return Example(id=id, text_a="question?", text_b=context, answers=answers)


# ---------------------------------------------------------------- normalize_answer


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("The Quick, Brown Fox!", "quick brown fox"),  # case, punctuation, article
        ("  a   b\tc\n", "b c"),  # article removed, whitespace collapsed and stripped
        ("theater an another Anne", "theater another anne"),  # only whole-word articles go
        ("the-end", "theend"),  # punctuation goes before articles: "the-end" -> "theend" keeps "the"
        ("a.m. 5:30", "am 530"),
        ("“quoted” naïve", "“quoted” naïve"),  # non-ASCII punctuation is not in string.punctuation
        ("The", ""),
        ("", ""),
    ],
)
def test_normalize_answer(text: str, normalized: str) -> None:
    assert normalize_answer(text) == normalized


# ---------------------------------------------------------------- exact_match


def test_exact_match_after_normalization() -> None:
    assert exact_match("the Eiffel Tower.", ["Eiffel tower"]) == 1.0
    assert exact_match("Eiffel", ["Eiffel Tower"]) == 0.0
    assert isinstance(exact_match("x", ["x"]), float)


def test_exact_match_takes_the_best_gold() -> None:
    assert exact_match("Eiffel", ["Eiffel Tower", "eiffel"]) == 1.0


def test_exact_match_of_no_answer() -> None:
    assert exact_match("", []) == 1.0  # unanswerable, predicted no answer
    assert exact_match("the", []) == 1.0  # normalizes to "" as well
    assert exact_match("Paris", []) == 0.0
    assert exact_match("", ["Paris"]) == 0.0
    # Golds that normalize to "" are left out (official v2.0); none left -> the gold is "".
    assert exact_match("", ["the", "."]) == 1.0
    assert exact_match("the", ["the", "Paris"]) == 0.0


# ---------------------------------------------------------------- f1_score


def test_f1_partial_overlap() -> None:
    # prediction tokens [cat, sat, on, mat] (4), gold tokens [cat, on, mat, today] (4), overlap 3:
    # P = 3/4, R = 3/4, F1 = 2 * 9/16 / (3/2) = 3/4.
    assert f1_score("the cat sat on the mat", ["a cat on a mat today"]) == pytest.approx(0.75)


def test_f1_counts_repeated_tokens_once_per_match() -> None:
    # prediction [new, york, new, york], gold [new, york]: overlap min-counts 1 + 1 = 2;
    # P = 2/4, R = 2/2, F1 = 2 * 0.5 * 1 / 1.5 = 2/3.
    assert f1_score("New York, New York", ["New York"]) == pytest.approx(2 / 3)


def test_f1_takes_the_best_gold() -> None:
    # vs [broncos]: overlap 1, P = 1/2, R = 1 -> 2/3.
    # vs [denver, broncos, team]: overlap 2, P = 1, R = 2/3 -> 0.8. The maximum is 0.8.
    assert f1_score("Denver Broncos", ["Broncos", "the Denver Broncos team"]) == pytest.approx(0.8)
    assert f1_score("Denver Broncos", ["Broncos"]) == pytest.approx(2 / 3)


def test_f1_without_overlap_and_with_empty_sides() -> None:
    assert f1_score("Paris", ["London"]) == 0.0
    assert f1_score("", ["Paris"]) == 0.0  # empty prediction, answerable question
    assert f1_score("Paris", []) == 0.0  # an answer to an unanswerable question
    assert f1_score("", []) == 1.0  # both empty: the v2.0 rule
    assert f1_score("a an the !", []) == 1.0  # normalizes to nothing
    assert f1_score("", ["the"]) == 1.0  # gold normalizes to nothing -> left out -> gold ""


# ---------------------------------------------------------------- SquadMetric

# id, golds, prediction, F1, EM (per question, worked out by hand)
CASES: list[tuple[str, tuple[str, ...], str | SpanPrediction, float, float]] = [
    ("a1", ("Denver Broncos",), "Denver Broncos", 1.0, 1.0),
    # [broncos, team] vs [denver, broncos]: P = R = 1/2 -> 1/2; vs [broncos]: P = 1/2, R = 1 -> 2/3.
    ("a2", ("Denver Broncos", "the Broncos"), SpanPrediction("Broncos team", 10), 2 / 3, 0.0),
    ("a3", ("1066",), "", 0.0, 0.0),
    ("n1", (), "", 1.0, 1.0),
    ("n2", (), "Normandy", 0.0, 0.0),
    ("n3", (), SpanPrediction("", -1, (("Normandy", 0.4),)), 1.0, 1.0),
]


def _filled(metric: SquadMetric) -> SquadMetric:
    metric.add([case[2] for case in CASES], [_example(case[0], *case[1]) for case in CASES])
    return metric


def test_split_scores_computed_by_hand() -> None:
    scores = _filled(SquadMetric()).compute()
    assert list(scores) == ALL_KEYS
    # HasAns: F1 (1 + 2/3 + 0) / 3 = 5/9, EM 1/3. NoAns: F1 = EM = 2/3.
    # Overall: F1 (1 + 2/3 + 0 + 1 + 0 + 1) / 6 = 11/18, EM 3/6.
    assert scores["HasAns_f1"] == pytest.approx(100 * 5 / 9)
    assert scores["HasAns_exact"] == pytest.approx(100 / 3)
    assert scores["NoAns_f1"] == pytest.approx(200 / 3)
    assert scores["NoAns_exact"] == pytest.approx(200 / 3)
    assert scores["f1"] == pytest.approx(100 * 11 / 18)
    assert scores["exact"] == pytest.approx(50.0)
    assert all(isinstance(value, float) for value in scores.values())


def test_per_question_table_matches_the_functions() -> None:
    for _, golds, prediction, f1, em in CASES:
        text = prediction.text if isinstance(prediction, SpanPrediction) else prediction
        assert f1_score(text, golds) == pytest.approx(f1)
        assert exact_match(text, golds) == em


def test_version_1_1_reports_overall_scores_only() -> None:
    scores = _filled(SquadMetric(version="1.1")).compute()
    assert list(scores) == ["f1", "exact"]
    assert scores == {"f1": pytest.approx(100 * 11 / 18), "exact": pytest.approx(50.0)}


def test_empty_metric_reports_every_key_as_zero() -> None:
    assert SquadMetric().compute() == dict.fromkeys(ALL_KEYS, 0.0)
    assert SquadMetric(version="1.1").compute() == {"f1": 0.0, "exact": 0.0}


def test_empty_group_scores_zero_and_keeps_the_key() -> None:
    metric = SquadMetric()
    metric.add(["Denver", "x"], [_example("a", "Denver"), _example("b", "Broncos")])
    assert metric.compute() == {
        "f1": 50.0,
        "exact": 50.0,
        "HasAns_f1": 50.0,
        "HasAns_exact": 50.0,
        "NoAns_f1": 0.0,
        "NoAns_exact": 0.0,
    }


def test_accumulates_over_adds_and_resets() -> None:
    metric = SquadMetric(version="1.1")
    metric.add(["Denver"], [_example("a", "Denver")])
    metric.add([""], [_example("b", "Broncos")])
    assert metric.compute() == {"f1": 50.0, "exact": 50.0}
    metric.reset()
    assert metric.compute() == {"f1": 0.0, "exact": 0.0}


def test_unlabelled_example_is_an_error_naming_it() -> None:
    metric = SquadMetric()
    metric.add(["x"], [Example(id="q-17", text_a="q?", text_b="x", answers=None)])
    with pytest.raises(ValueError, match=r"'q-17'.*no gold answers"):
        metric.compute()


def test_wrong_prediction_type_is_an_error_naming_the_example() -> None:
    metric = SquadMetric()
    metric.add([3], [_example("q-3", "x")])
    with pytest.raises(ValueError, match=r"'q-3'.*SpanPrediction"):
        metric.compute()


def test_predictions_and_examples_must_pair_up() -> None:
    with pytest.raises(ValueError, match="2 predictions for 1 examples"):
        SquadMetric().add(["a", "b"], [_example("a", "a")])


def test_unknown_version_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"\['1.1', '2.0'\]"):
        SquadMetric(version="3.0")  # type: ignore[arg-type]


# ---------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def squad_dev(shared_data: Path) -> list[Example]:
    """The 1407 questions of the shared SQuAD 2.0 dev subset."""
    folder = shared_folder(shared_data, "SQuAD-v2.0-dev-subset")
    return list(SquadReader().read(folder / "dev-v2.0.first5articles.json"))


def test_gold_answers_score_100_on_real_data(squad_dev: list[Example]) -> None:
    metric = SquadMetric()
    predictions = [
        SpanPrediction(e.answers[0].text, e.answers[0].start) if e.answers else "" for e in squad_dev
    ]
    metric.add(predictions, squad_dev)
    assert metric.compute() == dict.fromkeys(ALL_KEYS, 100.0)


def test_always_abstaining_on_real_data(squad_dev: list[Example]) -> None:
    metric = SquadMetric()
    metric.add([""] * len(squad_dev), squad_dev)
    scores = metric.compute()
    # 702 of the 1407 questions are unanswerable: only those are right.
    assert scores["f1"] == pytest.approx(100 * 702 / 1407)
    assert scores["exact"] == pytest.approx(100 * 702 / 1407)
    assert scores["HasAns_f1"] == scores["HasAns_exact"] == 0.0
    assert scores["NoAns_f1"] == scores["NoAns_exact"] == 100.0
