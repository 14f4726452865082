"""Tests of relation F1 and the BioASQ factoid metric against hand-computed values."""

from __future__ import annotations

import pytest
import torch

from mtdnn.config.build import build
from mtdnn.errors import ConfigurationError
from mtdnn.metrics.base import Metric
from mtdnn.metrics.classification import F1, Accuracy
from mtdnn.registry import Registry
from mtdnn.types import Answer, Example, SpanPrediction
from mtdnn_bio.metrics import BioAsqFactoid, RelationF1


def _relation(metric: RelationF1, predictions: list[int], targets: list[int]) -> dict[str, float]:
    metric.update(torch.tensor(predictions), torch.tensor(targets))
    return metric.compute()


# RelationF1 -----------------------------------------------------------------------------------------


def test_relation_f1_binary_positive_class() -> None:
    # Labels ["0", "1"], negative "0". Pairs (pred, gold): (1,1) (1,1) TP; (1,0) (1,0) FP; (0,0) -; (0,1) FN.
    # TP=2, FP=2, FN=1: P = 2/4, R = 2/3, F1 = 2*2 / (2*2 + 2 + 1) = 4/7.
    metric = RelationF1(negative=["0"])
    metric.bind_labels(["0", "1"])
    scores = _relation(metric, [1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 0, 1])
    assert list(scores) == ["f1", "precision", "recall"]
    assert scores == {
        "f1": pytest.approx(4 / 7),
        "precision": pytest.approx(0.5),
        "recall": pytest.approx(2 / 3),
    }
    assert all(isinstance(value, float) for value in scores.values())
    core = F1(positive=1)  # the core's binary F1 of class 1 agrees
    core.update(torch.tensor([1, 1, 1, 1, 0, 0]), torch.tensor([1, 1, 0, 0, 0, 1]))
    assert core.compute()["f1"] == pytest.approx(scores["f1"])


def test_relation_f1_several_relations_and_a_negative_class() -> None:
    # Labels ["A", "B", "false"] (ids 0, 1, 2), negative "false". (pred, gold):
    #   (A, A) TP | (B, A) FP and FN | (false, A) FN | (A, false) FP
    #   (B, B) TP | (false, false) -  | (false, B) FN
    # TP=2, FP=2, FN=3: P = 2/4 = 0.5, R = 2/5 = 0.4, F1 = 2*2 / (4 + 2 + 3) = 4/9.
    metric = RelationF1(negative=["false"])
    metric.bind_labels(["A", "B", "false"])
    scores = _relation(metric, [0, 1, 2, 0, 1, 2, 2], [0, 0, 0, 2, 1, 2, 1])
    assert scores == {
        "f1": pytest.approx(4 / 9),
        "precision": pytest.approx(0.5),
        "recall": pytest.approx(0.4),
    }


def test_relation_f1_without_negative_is_accuracy() -> None:
    # 4 of 7 correct; each of the 3 errors is one FP and one FN: P = R = F1 = 4/7 = accuracy.
    predictions, targets = [0, 1, 2, 2, 1, 0, 2], [0, 2, 2, 1, 1, 0, 0]
    metric = RelationF1()
    metric.bind_labels(["x", "y", "z"])
    scores = _relation(metric, predictions, targets)
    accuracy = Accuracy()
    accuracy.update(torch.tensor(predictions), torch.tensor(targets))
    assert scores == {
        "f1": pytest.approx(4 / 7),
        "precision": pytest.approx(4 / 7),
        "recall": pytest.approx(4 / 7),
    }
    assert scores["f1"] == pytest.approx(accuracy.compute()["accuracy"])


def test_relation_f1_undefined_scores_are_zero() -> None:
    # Everything predicted and gold negative: TP = FP = FN = 0.
    metric = RelationF1(negative=["0"])
    metric.bind_labels(["0", "1"])
    assert _relation(metric, [0, 0], [0, 0]) == {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    metric.reset()
    assert metric.compute() == {"f1": 0.0, "precision": 0.0, "recall": 0.0}


def test_relation_f1_empty_metric_computes_before_labels_are_bound() -> None:
    assert list(RelationF1(negative=["0"]).compute()) == ["f1", "precision", "recall"]


def test_relation_f1_needs_bound_labels_to_score() -> None:
    metric = RelationF1(negative=["0"])
    metric.update(torch.tensor([1]), torch.tensor([1]))
    with pytest.raises(RuntimeError, match="bind_labels"):
        metric.compute()


@pytest.mark.parametrize(
    ("negative", "labels", "message"),
    [
        (["false"], ["0", "1"], r"negative label\(s\) \['false'\] are not labels of the task"),
        (["Negative"], ["negative", "positive"], r"did you mean 'negative'\?"),
        (["0", "1"], ["0", "1"], r"names every label"),
        (["0"], None, r"no label vocabulary"),
    ],
)
def test_relation_f1_bad_negative_is_a_configuration_error(
    negative: list[str], labels: list[str] | None, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        RelationF1(negative=negative).bind_labels(labels)


def test_relation_f1_negative_must_be_a_list() -> None:
    with pytest.raises(ConfigurationError, match=r"write negative: \['0'\]"):
        RelationF1(negative="0")


def test_bio_metrics_build_from_config(registry: Registry) -> None:
    registry.add(Metric, "relation_f1", RelationF1)
    registry.add(Metric, "bioasq_factoid", BioAsqFactoid)
    relation = build(
        registry, Metric, {"type": "relation_f1", "negative": ["0"]}, path="tasks.gad.metrics[0]"
    )
    assert isinstance(relation, RelationF1) and relation.negative == ["0"]
    factoid = build(registry, Metric, {"type": "bioasq_factoid", "top_k": 3, "merge": "sum"}, path="m")
    assert isinstance(factoid, BioAsqFactoid) and (factoid.top_k, factoid.merge) == (3, "sum")
    with pytest.raises(ConfigurationError, match="merge"):
        build(registry, Metric, {"type": "bioasq_factoid", "merge": "mean"}, path="m")


# BioAsqFactoid --------------------------------------------------------------------------------------


def _example(pair: str, question: str | None, *golds: str) -> Example:
    answers = tuple(Answer(text=text, start=-1) for text in golds)
    return Example(id=pair, text_a="question?", text_b="snippet", answers=answers, group=question)


def _span(*nbest: tuple[str, float]) -> SpanPrediction:
    return SpanPrediction(text=nbest[0][0] if nbest else "", start=0 if nbest else -1, nbest=nbest)


def _four_questions() -> tuple[list[SpanPrediction], list[Example]]:
    """Four questions, probabilities chosen as exact binary fractions (no ties, no rounding)."""
    examples = [
        _example("q1_001", "q1", "BRCA1", "breast cancer 1"),
        _example("q1_002", "q1", "BRCA1", "breast cancer 1"),
        _example("q2_001", "q2", "insulin"),
        _example("q3_001", "q3", "warfarin"),
        _example("q4_001", "q4", "aspirin"),
        _example("q4_002", "q4", "aspirin"),
    ]
    predictions = [
        _span(("TP53", 0.5), ("brca1", 0.25)),
        _span(("BRCA1", 0.375), ("other", 0.25)),
        _span(("glucagon", 0.5), ("leptin", 0.25), ("ghrelin", 0.125), ("Insulin", 0.0625)),
        _span(("Warfarin", 0.875)),
        _span(("ibuprofen", 0.5), ("aspirin.", 0.25)),  # no trimming: "aspirin." is not "aspirin"
        _span(),  # nothing predicted for this snippet
    ]
    return predictions, examples


def test_bioasq_factoid_max_merge() -> None:
    # q1: TP53 max(.5) = .5, brca1 max(.25, .375) = .375, other .25 -> gold at rank 2: RR 1/2, lenient.
    # q2: gold "Insulin" at rank 4 of 4:                                RR 1/4, lenient.
    # q3: "Warfarin" = "warfarin" ignoring case, rank 1:                 RR 1, strict, lenient.
    # q4: no match:                                                      0.
    # MRR = (1/2 + 1/4 + 1 + 0) / 4 = 0.4375; strict = 1/4; lenient = 3/4.
    metric = BioAsqFactoid()
    metric.add(*_four_questions())
    scores = metric.compute()
    assert list(scores) == ["mrr", "strict_accuracy", "lenient_accuracy", "questions"]
    assert scores == {"mrr": 0.4375, "strict_accuracy": 0.25, "lenient_accuracy": 0.75, "questions": 4.0}
    assert metric.rankings() == {
        "q1": ["TP53", "brca1", "other"],  # spelled as first seen
        "q2": ["glucagon", "leptin", "ghrelin", "Insulin"],
        "q3": ["Warfarin"],
        "q4": ["ibuprofen", "aspirin."],
    }


def test_bioasq_factoid_sum_merge() -> None:
    # q1: brca1 .25 + .375 = .625 > TP53 .5 -> rank 1. Others as with max.
    # MRR = (1 + 1/4 + 1 + 0) / 4 = 0.5625; strict = 2/4; lenient = 3/4.
    metric = BioAsqFactoid(merge="sum")
    metric.add(*_four_questions())
    assert metric.compute() == {
        "mrr": 0.5625,
        "strict_accuracy": 0.5,
        "lenient_accuracy": 0.75,
        "questions": 4.0,
    }


def test_bioasq_factoid_top_k_cuts_the_ranking() -> None:
    # top_k = 3 drops q2's gold at rank 4: MRR = (1/2 + 0 + 1 + 0) / 4 = 0.375; lenient = 2/4.
    metric = BioAsqFactoid(top_k=3)
    metric.add(*_four_questions())
    assert metric.compute() == {
        "mrr": 0.375,
        "strict_accuracy": 0.25,
        "lenient_accuracy": 0.5,
        "questions": 4.0,
    }
    assert metric.rankings()["q2"] == ["glucagon", "leptin", "ghrelin"]


def test_bioasq_factoid_ties_keep_first_seen_order_and_text_without_nbest_counts() -> None:
    # q: "a" and "b" both 0.5 (a seen first) -> gold "b" at rank 2.
    # r: no nbest, text "x" scores 1.0 -> rank 1 ("x" = "X" ignoring case).
    # A question whose gold list is empty counts with 0. MRR = (1/2 + 1 + 0) / 3 = 0.5.
    examples = [_example("q_1", "q", "b"), _example("r_1", "r", "X"), _example("s_1", "s")]
    predictions = [_span(("a", 0.5), ("b", 0.5)), SpanPrediction(text="x", start=3), _span(("y", 0.5))]
    metric = BioAsqFactoid()
    metric.add(predictions, examples)
    assert metric.compute() == {
        "mrr": pytest.approx(0.5),
        "strict_accuracy": pytest.approx(1 / 3),
        "lenient_accuracy": pytest.approx(2 / 3),
        "questions": 3.0,
    }


def test_bioasq_factoid_examples_without_group_are_their_own_questions() -> None:
    metric = BioAsqFactoid()
    metric.add([_span(("a", 0.5)), _span(("c", 0.5))], [_example("1", None, "a"), _example("2", None, "b")])
    assert metric.compute()["questions"] == 2.0
    assert metric.compute()["strict_accuracy"] == 0.5


def test_bioasq_factoid_empty_and_reset() -> None:
    metric = BioAsqFactoid()
    empty = {"mrr": 0.0, "strict_accuracy": 0.0, "lenient_accuracy": 0.0, "questions": 0.0}
    assert metric.compute() == empty
    metric.add(*_four_questions())
    metric.reset()
    assert metric.compute() == empty


def test_bioasq_factoid_rejects_unlabelled_examples_and_other_predictions() -> None:
    unlabelled = Example(id="q_1", text_a="?", text_b="c", group="q")
    metric = BioAsqFactoid()
    metric.add([_span(("a", 1.0))], [unlabelled])
    with pytest.raises(ValueError, match="golden"):
        metric.compute()
    metric = BioAsqFactoid()
    metric.add(["a"], [_example("q_1", "q", "a")])
    with pytest.raises(TypeError, match="SpanPrediction"):
        metric.compute()


@pytest.mark.parametrize(("options", "message"), [({"top_k": 0}, "top_k"), ({"merge": "mean"}, "merge")])
def test_bioasq_factoid_bad_options(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        BioAsqFactoid(**options)  # type: ignore[arg-type]
