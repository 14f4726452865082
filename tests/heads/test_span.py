"""The extractive-QA span head: windows over long contexts, gold positions, decoding to characters."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any, cast

import pytest
import torch

from mtdnn.api import train
from mtdnn.config import build
from mtdnn.data import TaskData, make_batch
from mtdnn.encoders import HuggingFaceEncoder
from mtdnn.errors import ConfigurationError, DataError
from mtdnn.heads import Head, SpanHead
from mtdnn.heads.span import answer_tokens, context_windows
from mtdnn.metrics.squad import exact_match, f1_score
from mtdnn.readers import SquadReader
from mtdnn.registry import Registry
from mtdnn.types import Answer, EncoderOutput, Example, SpanPrediction, TaskBatch
from tests.conftest import shared_folder

CONTEXT = (
    "The Normans (Norman: Nourmands) were the people who in the 10th and 11th centuries gave "
    "their name to Normandy, a region in France. They were descended from Norse raiders and "
    "pirates from Denmark, Iceland and Norway who, under their leader Rollo, agreed to swear "
    "fealty to King Charles III of West Francia. The conquest of England came in 1066."
)
QUESTION = "Who gave their name to Normandy?"


def _example(id: str, answer: str | None, *, nth: int = 0, question: str = QUESTION) -> Example:
    """An example about :data:`CONTEXT` answered by the ``nth`` occurrence of ``answer`` (``None``: none)."""
    if answer is None:
        return Example(id=id, text_a=question, text_b=CONTEXT, answers=())
    start = -1
    for _ in range(nth + 1):
        start = CONTEXT.index(answer, start + 1)
    return Example(id=id, text_a=question, text_b=CONTEXT, answers=(Answer(answer, start),))


@pytest.fixture(scope="module")
def encoder(tiny_bert: Path) -> HuggingFaceEncoder:
    return HuggingFaceEncoder(str(tiny_bert))


def _head(registry: Registry, input_dim: int = 8, **options: object) -> SpanHead:
    head = build(registry, Head, {"type": "span", **options}, path="head", input_dim=input_dim, task="qa")
    assert isinstance(head, SpanHead)
    return head


def _featurize(
    head: SpanHead, encoder: HuggingFaceEncoder, examples: list[Example], max_length: int
) -> TaskData:
    return head.featurize("qa", examples, encoder, max_length=max_length, labels=None, source="test.json")


def _context_tokens(encoder: HuggingFaceEncoder) -> list[tuple[int, int]]:
    (pieces,) = encoder.tokenize([CONTEXT])
    return list(pieces.offsets)


def _window_tokens(data: TaskData, row: int) -> list[tuple[int, int]]:
    """The character spans of the context tokens of one row, in input order."""
    assert data.extras is not None
    extra = data.extras[row]
    return [(a, b) for a, b in zip(extra["char_start"], extra["char_end"], strict=True) if a >= 0]


def _answer_spans(data: TaskData) -> dict[int, tuple[int, int]]:
    """The gold ``(start, end)`` input positions of every row whose target is not the null position."""
    assert data.targets is not None
    targets = [cast(tuple[int, int], target) for target in data.targets]
    return {row: target for row, target in enumerate(targets) if target != (0, 0)}


def _pointing(
    data: TaskData, spans: dict[int, tuple[int, int]], null: dict[int, float] | None = None
) -> list[torch.Tensor]:
    """Row scores that point at input positions ``spans[row]`` (start, end) and score the null position."""
    scores = []
    for row, features in enumerate(data.features):
        row_scores = torch.zeros(len(features["input_ids"]), 2)
        if row in spans:
            row_scores[spans[row][0], 0] = 5.0
            row_scores[spans[row][1], 1] = 5.0
        row_scores[0] = (null or {}).get(row, -5.0)
        scores.append(row_scores)
    return scores


# ---------------------------------------------------------------------------------------------- config


def test_builds_from_config_and_scores_every_position(registry: Registry) -> None:
    head = _head(registry, n_best=5, max_answer_length=10)
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
    hidden = torch.randn(2, 6, 8)
    batch = TaskBatch("qa", {"input_ids": torch.ones(2, 6, dtype=torch.long), "attention_mask": mask}, None)
    output = head(EncoderOutput(hidden=hidden, mask=mask, pooled=hidden[:, 0]), batch)
    assert output.logits.shape == (2, 6, 2)
    assert (output.logits[1, 4:] == torch.finfo(torch.float32).min).all()
    torch.testing.assert_close(head.probabilities(output).sum(dim=1), torch.ones(2, 2))
    assert head.predict(output).shape == (2, 2)
    assert [tuple(row.shape) for row in head.row_scores(output, batch)] == [(6, 2), (4, 2)]


def test_options_are_checked(registry: Registry) -> None:
    for options, key in (
        ({"doc_stride": -1}, "doc_stride"),
        ({"n_best": 0}, "n_best"),
        ({"max_answer_length": 0}, "max_answer_length"),
        ({"max_question_length": 0}, "max_question_length"),
        ({"dropout": 1.0}, "dropout"),
    ):
        with pytest.raises(ConfigurationError, match=key):
            _head(registry, **options)


def test_a_stride_that_does_not_fit_the_window_names_both_settings(
    registry: Registry, encoder: HuggingFaceEncoder
) -> None:
    # 64 tokens - 3 special tokens - a 32-token question leave 29 context tokens at the least
    head = _head(registry, doc_stride=29, max_question_length=32)
    with pytest.raises(ConfigurationError, match="doc_stride 29 is not below 29") as error:
        _featurize(head, encoder, [_example("q", "Normans")], 64)
    assert error.value.path == "tasks.qa.head.doc_stride"
    with pytest.raises(ConfigurationError, match="max_length 30 leaves no room"):
        _featurize(_head(registry, doc_stride=0), encoder, [_example("q", "Normans")], 30)


def test_left_padding_gives_the_same_logits_by_row_position(registry: Registry) -> None:
    head = _head(registry).eval()
    hidden = torch.randn(1, 4, 8)
    right = torch.tensor([[1, 1, 1, 0]])
    left = torch.tensor([[0, 1, 1, 1]])
    shifted = torch.cat([hidden[:, 3:], hidden[:, :3]], dim=1)  # the same tokens, padded on the left
    ids = {"input_ids": torch.ones(1, 4, dtype=torch.long)}
    first = head(
        EncoderOutput(hidden, right, hidden[:, 0]), TaskBatch("qa", {**ids, "attention_mask": right}, None)
    )
    second = head(
        EncoderOutput(shifted, left, shifted[:, 1]), TaskBatch("qa", {**ids, "attention_mask": left}, None)
    )
    torch.testing.assert_close(first.logits, second.logits)


# ---------------------------------------------------------------------------------------------- windows


def test_windows_cover_the_context_and_share_the_stride() -> None:
    assert context_windows(10, 4, 1) == [(0, 4), (3, 7), (6, 10)]
    assert context_windows(11, 4, 2) == [(0, 4), (2, 6), (4, 8), (6, 10), (8, 11)]
    assert context_windows(3, 4, 2) == [(0, 3)]
    assert context_windows(0, 4, 0) == [(0, 0)]
    with pytest.raises(ValueError, match="stride"):
        context_windows(10, 4, 4)


def test_an_answer_takes_every_token_it_overlaps() -> None:
    offsets = [(0, 3), (4, 10), (10, 11), (12, 13)]
    assert answer_tokens(offsets, 4, 11) == (1, 2)
    assert answer_tokens(offsets, 5, 10) == (1, 1)  # inside one token
    assert answer_tokens(offsets, 2, 5) == (0, 1)  # across a token boundary
    assert answer_tokens(offsets, 3, 4) is None  # only the space between tokens


def test_a_long_context_is_cut_into_windows_with_the_gold_span_in_each_that_holds_it(
    registry: Registry, encoder: HuggingFaceEncoder
) -> None:
    head = _head(registry, doc_stride=6, max_question_length=16)
    examples = [_example("early", "Normans"), _example("late", "1066"), _example("middle", "Rollo")]
    data = _featurize(head, encoder, examples, 40)
    tokens = _context_tokens(encoder)
    assert data.extras is not None
    spans = _answer_spans(data)
    for number, example in enumerate(examples):
        rows = [row for row in range(len(data)) if data.owner(row) == number]
        assert len(rows) > 2
        windows = [_window_tokens(data, row) for row in rows]
        # every context token is in some window, in order; consecutive windows share doc_stride tokens
        covered = [span for window in windows for span in window]
        assert sorted(set(covered)) == tokens
        for before, after in itertools.pairwise(windows):
            assert before[-6:] == after[:6]
        # each context token is owned (its start proposed) by exactly one window
        owned = [
            (a, b)
            for row in rows
            for a, b, own in zip(
                data.extras[row]["char_start"],
                data.extras[row]["char_end"],
                data.extras[row]["owned"],
                strict=True,
            )
            if own
        ]
        assert sorted(owned) == tokens
        assert example.answers is not None
        answer = example.answers[0]
        holding = 0
        for row, window in zip(rows, windows, strict=True):
            start, end = spans.get(row, (0, 0))
            if window[0][0] <= answer.start and answer.end <= window[-1][1]:
                holding += 1
                extra = data.extras[row]
                assert CONTEXT[extra["char_start"][start] : extra["char_end"][end]] == answer.text
                assert data.features[row]["token_type_ids"][start] == 1  # in the context
            else:
                assert (start, end) == (0, 0)
        assert holding >= 1
    assert len(data.features[0]["input_ids"]) <= 40


def test_batches_carry_long_start_and_end_labels(registry: Registry, encoder: HuggingFaceEncoder) -> None:
    head = _head(registry, doc_stride=6, max_question_length=16)
    data = _featurize(head, encoder, [_example("q", "Normans"), _example("n", None)], 40)
    batch = make_batch(data, list(range(len(data))), encoder)
    assert batch.labels is not None
    assert batch.labels.dtype == torch.long and batch.labels.shape == (len(data), 2)
    assert set(batch.extras) == {"char_start", "char_end", "owned"}
    assert batch.ids[1] == "q#1"


def test_unanswerable_text_only_and_unlabelled_examples(
    registry: Registry, encoder: HuggingFaceEncoder
) -> None:
    head = _head(registry, doc_stride=0)
    text_only = Example(id="t", text_a=QUESTION, text_b=CONTEXT, answers=(Answer("the Normans", -1),))
    data = _featurize(head, encoder, [_example("n", None), text_only], 128)
    assert data.targets == ((0, 0), (-1, -1))
    unlabelled = Example(id="u", text_a=QUESTION, text_b=CONTEXT)
    assert _featurize(head, encoder, [unlabelled], 128).targets is None
    with pytest.raises(DataError, match="'u' has no answers while others do"):
        _featurize(head, encoder, [_example("n", None), unlabelled], 128)
    with pytest.raises(DataError, match="no context"):
        _featurize(head, encoder, [Example(id="x", text_a=QUESTION)], 128)


def test_long_questions_are_cut(registry: Registry, encoder: HuggingFaceEncoder) -> None:
    head = _head(registry, doc_stride=0, max_question_length=4)
    data = _featurize(head, encoder, [_example("q", "Normans", question="why " * 50)], 128)
    assert data.features[0]["input_ids"][:6] == [101, *[2339] * 4, 102]


# ---------------------------------------------------------------------------------------------- decoding


def test_decoding_the_gold_positions_gives_back_the_exact_answers(
    registry: Registry, encoder: HuggingFaceEncoder
) -> None:
    # 78 context tokens in windows [0, 30), [24, 54), [48, 78) of context tokens
    head = _head(registry, doc_stride=6, max_question_length=16)
    examples = [
        _example("first", "Normans"),
        _example("sub-words", "Nourmands"),  # no ##ur ##man ##ds
        _example("second window", "Denmark, Iceland and Norway"),  # context tokens 41-45
        _example("two windows", "Rollo"),  # roll ##o, context tokens 51-52
        _example("last window", "1066"),  # 106 ##6
        _example("partial", "orman", nth=1),  # inside "Norman": decodes to the whole token
    ]
    data = _featurize(head, encoder, examples, 40)
    spans = _answer_spans(data)
    windows = [[row - 3 * data.owner(row) for row in spans if data.owner(row) == n] for n in range(6)]
    assert windows == [[0], [0], [1], [1, 2], [2], [0]]
    predictions = head.decode(data, _pointing(data, spans))
    texts = [prediction.text for prediction in predictions]
    assert texts == ["Normans", "Nourmands", "Denmark, Iceland and Norway", "Rollo", "1066", "Norman"]
    for prediction in predictions:
        assert isinstance(prediction, SpanPrediction)
        assert CONTEXT[prediction.start : prediction.start + len(prediction.text)] == prediction.text
        assert prediction.nbest[0][0] == prediction.text
        probabilities = [probability for _, probability in prediction.nbest]
        assert probabilities == sorted(probabilities, reverse=True)
        assert sum(probabilities) == pytest.approx(1.0)
        assert len({text for text, _ in prediction.nbest}) == len(prediction.nbest) == 20


def test_spans_respect_the_context_the_order_and_the_maximum_length(
    registry: Registry, encoder: HuggingFaceEncoder
) -> None:
    head = _head(registry, doc_stride=0, max_answer_length=3, n_best=50)
    data = _featurize(head, encoder, [_example("q", "Normans")], 128)
    tokens = _context_tokens(encoder)
    scores = torch.zeros(len(data.features[0]["input_ids"]), 2)
    scores[:, 0] = torch.arange(len(scores), dtype=torch.float)  # later starts score higher
    scores[:5, :] = 100.0  # the question's tokens must never be picked
    (prediction,) = head.decode(data, [scores])
    assert 40 < len(prediction.nbest) <= 50  # 50 spans, fewer texts (repeated words are merged)
    ends = {b for _, b in tokens}
    starts = {a for a, _ in tokens}
    for text, _ in prediction.nbest:  # whole tokens, at most 3 of them
        assert any(
            CONTEXT[a:b] == text and sum(a <= c and d <= b for c, d in tokens) <= 3
            for a in starts
            for b in ends
        ), text
    assert prediction.text == "."  # the last token, the best start, is also the only end after it


def test_no_answer_wins_only_when_allowed_and_above_the_threshold(
    registry: Registry, encoder: HuggingFaceEncoder
) -> None:
    examples = [_example("q", "Rollo")]
    options: dict[str, Any] = {"doc_stride": 0, "n_best": 3}
    data = _featurize(_head(registry, **options), encoder, examples, 128)
    spans = _answer_spans(data)
    assert list(spans) == [0]
    scores = _pointing(data, spans, null={0: 5.5})  # null 11 against the span's 10
    (never,) = _head(registry, **options).decode(data, scores)
    assert never.text == "Rollo" and never.start == CONTEXT.index("Rollo")
    (null,) = _head(registry, allow_null=True, **options).decode(data, scores)
    assert null.text == "" and null.start == -1
    assert null.nbest[0][0] == "Rollo" and sum(p for _, p in null.nbest) < 0.5  # the rest is the null's
    (kept,) = _head(registry, allow_null=True, null_threshold=1.5, **options).decode(data, scores)
    assert kept.text == "Rollo"


def test_the_null_score_is_the_lowest_over_the_windows(
    registry: Registry, encoder: HuggingFaceEncoder
) -> None:
    head = _head(registry, doc_stride=6, max_question_length=16, allow_null=True)
    data = _featurize(head, encoder, [_example("q", "Rollo")], 40)
    spans = _answer_spans(data)
    high = {row: 20.0 for row in range(len(data))}
    (null,) = head.decode(data, _pointing(data, spans, null=high))
    assert null.text == ""
    assert 0 not in spans  # the first window does not hold the answer; its null score is the lowest
    (answer,) = head.decode(data, _pointing(data, spans, null={**high, 0: 1.0}))
    assert answer.text == "Rollo"


# ---------------------------------------------------------------------------------------------- training


def _squad_file(path: Path, articles: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"version": "v2.0", "data": articles}), encoding="utf-8")
    return path


def _span_config(
    train_file: Path, dev_file: Path, encoder: str, head: dict[str, Any], **task: Any
) -> dict[str, Any]:
    return {
        "seed": 13,
        "encoder": {"type": "hf", "model": encoder},
        "tasks": {
            "squad": {
                "reader": {"type": "squad", "skip_impossible": True},
                "head": {"type": "span", **head},
                "loss": "span_ce",
                "metrics": [{"type": "squad", "version": "1.1"}],
                "train": str(train_file),
                "dev": str(dev_file),
                **task,
            }
        },
        "trainer": {
            "epochs": 1,
            "device": "cpu",
            "progress_bar": False,
            "optimizer": {"type": "adamw", "lr": 1e-3},
        },
    }


def test_the_span_head_trains_and_evaluates_through_the_api(
    tmp_path: Path, tiny_bert: Path, registry: Registry
) -> None:
    questions = [
        {"id": f"q{i}", "question": QUESTION, "answers": [{"text": "Normans", "answer_start": 4}]}
        for i in range(4)
    ]
    article = {"title": "Normans", "paragraphs": [{"context": CONTEXT, "qas": questions}]}
    data = _squad_file(tmp_path / "qa.json", [article])
    head = {"doc_stride": 16, "max_question_length": 16}
    config = _span_config(data, data, str(tiny_bert), head, max_length=64)
    result = train(config, tmp_path / "run", registry)
    scores = result.state.best_metrics["squad"]
    assert set(scores) == {"f1", "exact"} and 0.0 <= scores["f1"] <= 100.0
    # the official scripts' predictions file, and raw question-context pairs through predict
    from mtdnn.api import evaluate_run, predict_file

    evaluate_run(tmp_path / "run", registry, predictions=tmp_path / "predictions")
    answers = json.loads((tmp_path / "predictions" / "squad.json").read_text())
    assert set(answers) == {f"q{i}" for i in range(4)} and all(
        answer in CONTEXT for answer in answers.values()
    )
    raw = tmp_path / "raw.jsonl"
    raw.write_text(json.dumps({"id": "x", "text": QUESTION, "text_b": CONTEXT}) + "\n")
    output = tmp_path / "out.jsonl"
    with output.open("w") as stream:
        predict_file(tmp_path / "run", registry, task="squad", input_path=raw, output=stream)
    [record] = [json.loads(line) for line in output.read_text().splitlines()]
    assert record["id"] == "x" and CONTEXT[record["start"] :].startswith(record["answer"])
    assert record["nbest"][0]["text"] == record["answer"] and 0 < record["nbest"][0]["probability"] <= 1


# ---------------------------------------------------------------------------------------------- learning


TRAIN_ARTICLES = ("Computational_complexity_theory", "Southern_California", "Victoria_(Australia)")
DEV_ARTICLES = ("Normans", "Sky_(United_Kingdom)")


def _first_words_scores(examples: list[Example]) -> tuple[float, float]:
    """The best SQuAD F1 and exact match of answering with the first 1 to 5 words of the context."""
    f1 = exact = 0.0
    for count in range(1, 6):
        guesses = [" ".join((example.text_b or "").split()[:count]) for example in examples]
        golds = [[answer.text for answer in example.answers or ()] for example in examples]
        pairs = list(zip(guesses, golds, strict=True))
        f1 = max(f1, 100.0 * sum(f1_score(guess, gold) for guess, gold in pairs) / len(pairs))
        exact = max(exact, 100.0 * sum(exact_match(guess, gold) for guess, gold in pairs) / len(pairs))
    return f1, exact


@pytest.mark.slow
def test_minilm_learns_squad_from_400_questions(
    tmp_path: Path, shared_data: Path, minilm_dir: Path, registry: Registry
) -> None:
    """MiniLM with the span head, trained on 400 answerable SQuAD 2.0 questions, answers other articles.

    Training reads the answerable questions of three articles (the first 400 of their 501; one
    epoch of 50 steps, batch 8, lr 2e-4 for the encoder and 1e-3 for the head, max_length 256);
    the dev set is the 204 answerable questions of two other articles, scored with the official
    SQuAD F1 and exact match. Measured on 2 busy CPU cores with one thread (about 2 minutes):
    F1 15.3 / EM 9.3 with this seed; seeds 1 and 2 gave 12.9 / 7.8 and 11.6 / 5.4 (50 steps
    are few, so the seed matters). Baselines: the untrained head on the same encoder scores
    F1 6.5-6.8 / EM 0-1.0 (seeds 13, 1, 2); the best "first k words of the context" guess
    scores F1 6.9 / EM 1.5 (recomputed here). The thresholds, F1 and EM each at least 3 points
    above that guess and at least 10 and 4, lie below every seed measured and well above both
    baselines in exact match, where guessing is weakest: only a head that learned to find
    answers passes.
    """
    source = shared_folder(shared_data, "SQuAD-v2.0-dev-subset") / "dev-v2.0.first5articles.json"
    articles = {
        article["title"]: article for article in json.loads(source.read_text(encoding="utf-8"))["data"]
    }
    train_file = _squad_file(tmp_path / "train.json", [articles[title] for title in TRAIN_ARTICLES])
    dev_file = _squad_file(tmp_path / "dev.json", [articles[title] for title in DEV_ARTICLES])
    head = {"doc_stride": 64, "max_question_length": 48}
    config = _span_config(
        train_file, dev_file, "all_minilm_l6_v2", head, max_length=256, batch_size=8, train_limit=400
    )
    config["trainer"]["optimizer"] = {"type": "adamw", "lr": 2e-4, "head_lr": 1e-3}
    started = time.monotonic()
    result = train(config, tmp_path / "run", registry)
    elapsed = time.monotonic() - started

    dev = list(SquadReader(skip_impossible=True).read(dev_file))
    assert len(dev) == 204
    guess_f1, guess_exact = _first_words_scores(dev)
    scores = result.state.best_metrics["squad"]
    report = (scores, guess_f1, guess_exact, elapsed)
    assert scores["f1"] >= max(10.0, guess_f1 + 3.0), report
    assert scores["exact"] >= max(4.0, guess_exact + 3.0), report


def test_row_spans_are_the_exact_n_best_with_ties_in_position_order() -> None:
    import numpy as np

    from mtdnn.portable.spans import row_spans

    rng = np.random.default_rng(0)
    for _ in range(300):
        size = int(rng.integers(4, 40))
        scores = rng.integers(-2, 3, (size, 2)).astype(np.float32)  # small integers: many ties
        context = range(int(rng.integers(1, 3)), size - 1)
        char_start = [10 * p if p in context else -1 for p in range(size)]
        char_end = [10 * p + 5 if p in context else -1 for p in range(size)]
        owned = [int(p in context and rng.random() < 0.8) for p in range(size)]
        width, n_best = int(rng.integers(1, 6)), int(rng.integers(1, 12))
        brute = sorted(
            (-(scores[i, 0] + scores[j, 1]), i - context[0], j - i, char_start[i], char_end[j])
            for i in context
            for j in context
            if owned[i] and i <= j < i + width
        )[:n_best]
        null, spans = row_spans(scores, char_start, char_end, owned, max_answer_length=width, n_best=n_best)
        assert null == float(scores[0, 0] + scores[0, 1])
        assert spans == [(-negative, start, end) for negative, _, _, start, end in brute]
