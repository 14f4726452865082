"""The tagging head: first sub-word labels, windows over long sentences, merging, loss and errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mtdnn.config import build
from mtdnn.data import make_batch
from mtdnn.encoders import HuggingFaceEncoder, LstmEncoder
from mtdnn.errors import ConfigurationError, DataError
from mtdnn.heads import Head, TaggingHead
from mtdnn.losses import Loss
from mtdnn.registry import Registry
from mtdnn.types import Example

LABELS = ["O", "B-Disease", "I-Disease"]


def _sentence(number: int, words: list[str], tags: list[str] | None = None) -> Example:
    return Example(
        id=str(number),
        text_a=" ".join(words),
        words=tuple(words),
        tags=None if tags is None else tuple(tags),
    )


def _long_sentence(count: int) -> Example:
    words = [f"hereditary{i % 7} nonpolyposis colorectal carcinoma".split()[i % 4] for i in range(count)]
    tags = ["B-Disease" if i % 4 == 1 else "I-Disease" if i % 4 in (2, 3) else "O" for i in range(count)]
    return _sentence(1, words, tags)


def test_only_the_first_sub_word_of_each_word_is_labelled(tiny_bert: Path) -> None:
    encoder = HuggingFaceEncoder(str(tiny_bert))
    head = TaggingHead(32, LABELS)
    example = _sentence(
        1, ["Familial", "adenomatous", "polyposis", "."], ["O", "B-Disease", "I-Disease", "O"]
    )
    data = head.featurize("ner", [example], encoder, max_length=64, labels=LABELS, source="test")
    assert len(data) == 1 and data.extras is not None and data.targets == ((0, 1, 2, 0),)
    ids = data.features[0]["input_ids"]
    starts = data.extras[0]["word_starts"]
    for word, start in zip(example.words or (), starts, strict=True):
        first = encoder.tokenizer(word, add_special_tokens=False)["input_ids"][0]
        assert ids[start] == first
    assert ids[0] == encoder.tokenizer.cls_token_id and ids[-1] == encoder.tokenizer.sep_token_id
    assert len(ids) > len(starts) + 2  # some words have several pieces, which carry no label


def test_a_long_sentence_becomes_overlapping_windows_that_cover_every_word_once(tiny_bert: Path) -> None:
    encoder = HuggingFaceEncoder(str(tiny_bert))
    head = TaggingHead(32, LABELS, overlap=8)
    example = _long_sentence(60)
    data = head.featurize("ner", [example], encoder, max_length=32, labels=LABELS, source="test")
    assert data.extras is not None and data.targets is not None and data.owners is not None
    assert len(data) > 3 and set(data.owners) == {0}
    assert all(len(row["input_ids"]) <= 32 for row in data.features)
    owned: list[int] = []
    for extra, target in zip(data.extras, data.targets, strict=True):
        first = extra["first_word"][0]
        words = len(extra["word_starts"])
        assert target == tuple(LABELS.index(tag) for tag in (example.tags or ())[first : first + words])
        owned += [first + i for i, flag in enumerate(extra["owned"]) if flag]
    assert owned == list(range(60))  # every word is predicted by exactly one window, in order
    firsts = [extra["first_word"][0] for extra in data.extras]
    assert firsts == sorted(firsts) and len(set(firsts)) == len(firsts)
    assert data.row_id(0) == "1#0" and data.row_id(1) == "1#1"


def test_decoding_takes_each_word_from_the_window_that_owns_it(tiny_bert: Path) -> None:
    encoder = HuggingFaceEncoder(str(tiny_bert))
    head = TaggingHead(32, LABELS, overlap=8)
    example = _long_sentence(40)
    data = head.featurize("ner", [example], encoder, max_length=24, labels=LABELS, source="test")
    assert data.extras is not None
    # window w votes label w % 3 for every word, so the merged tag of a word names its owning window
    scores = [
        torch.nn.functional.one_hot(torch.full((len(extra["word_starts"]),), row % 3), 3).float()
        for row, extra in enumerate(data.extras)
    ]
    [tags] = head.decode(data, scores)
    expected = [""] * 40
    for row, extra in enumerate(data.extras):
        for offset, flag in enumerate(extra["owned"]):
            if flag:
                expected[extra["first_word"][0] + offset] = LABELS[row % 3]
    assert tags == expected and "" not in tags
    assert len({tag for tag in tags}) > 1  # several windows contributed


def test_predictions_of_a_long_sentence_match_those_of_each_window_alone(tiny_bert: Path) -> None:
    """Merging is consistent with the model: a word's tag is its owner window's argmax."""
    from mtdnn.losses import CrossEntropyLoss
    from mtdnn.metrics import SeqevalMetric
    from mtdnn.model import MultiTaskModel
    from mtdnn.readers import GlueReader
    from mtdnn.task import Task, TaskSettings
    from mtdnn.training.evaluation import predict_task

    encoder = HuggingFaceEncoder(str(tiny_bert))
    torch.manual_seed(0)
    head = TaggingHead(32, LABELS, overlap=6)
    model = MultiTaskModel(encoder, {"ner": head}).eval()
    settings = TaskSettings(
        GlueReader("sst2"),
        {},
        loss=CrossEntropyLoss(),
        metrics=[SeqevalMetric()],
        labels=LABELS,
        eval_batch_size=3,
    )
    task = Task("ner", settings, head)
    examples = [_long_sentence(50), _sentence(2, ["Short", "one"], ["O", "O"])]
    data = head.featurize("ner", examples, encoder, max_length=20, labels=LABELS, source="test")
    result = predict_task(model, task, data, device=torch.device("cpu"))
    assert [len(tags) for tags in result.predictions] == [50, 2]
    assert data.extras is not None
    for row in range(len(data)):
        batch = make_batch(data, [row], encoder)
        with torch.no_grad():
            best = model(batch).logits[0].argmax(-1).tolist()
        extra = data.extras[row]
        for offset, flag in enumerate(extra["owned"]):
            if flag:
                word = extra["first_word"][0] + offset
                assert result.predictions[data.owner(row)][word] == LABELS[best[offset]]


def test_cross_entropy_ignores_padding_words_and_trains_the_head(tiny_bert: Path, registry: Registry) -> None:
    encoder = HuggingFaceEncoder(str(tiny_bert))
    head = build(registry, Head, {"type": "tagging"}, path="head", input_dim=32, labels=LABELS)
    loss = build(registry, Loss, {"type": "cross_entropy"}, path="loss")
    examples = [
        _sentence(
            1, ["Colon", "cancer", "runs", "in", "families"], ["B-Disease", "I-Disease", "O", "O", "O"]
        ),
        _sentence(2, ["Ataxia", "."], ["B-Disease", "O"]),
    ]
    data = head.featurize("ner", examples, encoder, max_length=32, labels=LABELS, source="test")
    batch = make_batch(data, [0, 1], encoder)
    assert batch.labels is not None and batch.labels.tolist() == [[1, 2, 0, 0, 0], [1, 0, -1, -1, -1]]
    assert batch.extras["word_starts"][1, 2:].tolist() == [-1, -1, -1]
    output = head(encoder(batch.inputs), batch)
    assert output.logits.shape == (2, 5, 3)
    expected = torch.nn.functional.cross_entropy(
        torch.cat([output.logits[0], output.logits[1, :2]]), torch.tensor([1, 2, 0, 0, 0, 1, 0])
    )
    value = loss(output, batch)
    assert torch.allclose(value, expected)
    value.backward()
    assert head.classifier[-1].weight.grad is not None


def test_word_positions_hold_for_a_tokenizer_that_pads_on_the_left() -> None:
    from mtdnn.types import EncoderOutput, TaskBatch

    head = TaggingHead(1, LABELS).eval()
    head.classifier = torch.nn.Identity()  # type: ignore[assignment]  # expose the gathered states
    positions = torch.arange(6.0).view(1, 6, 1).expand(2, 6, 1)  # each state holds its position
    starts = torch.tensor([[1, 2, 4], [1, 2, -1]])  # counted from the row's first real token
    right = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
    left = torch.tensor([[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]])
    for mask, expected in ((right, [[1, 2, 4], [1, 2]]), (left, [[1, 2, 4], [3, 4]])):
        batch = TaskBatch(task="ner", inputs={}, labels=None, extras={"word_starts": starts})
        gathered = head(EncoderOutput(hidden=positions, mask=mask, pooled=positions[:, 0]), batch).logits
        assert gathered[0, :, 0].tolist() == expected[0]
        assert gathered[1, :2, 0].tolist() == expected[1]


def test_the_tagging_head_works_on_the_lstm_encoder() -> None:
    corpus = ["Colon cancer runs in families .", "Ataxia telangiectasia ."]
    encoder = LstmEncoder(embedding_dim=8, hidden_size=4, corpus=lambda: iter(corpus))
    head = TaggingHead(encoder.output_dim, LABELS, overlap=1)
    example = _sentence(1, corpus[0].split(), ["B-Disease", "I-Disease", "O", "O", "O", "O"])
    data = head.featurize("ner", [example], encoder, max_length=4, labels=LABELS, source="test")
    assert data.extras is not None and len(data) == 2  # 6 words: windows of words 0-3 and 3-5
    batch = make_batch(data, [0, 1], encoder)
    output = head(encoder(batch.inputs), batch)
    assert output.logits.shape[:2] == (2, 4)


def test_bad_examples_and_options_are_reported(tiny_bert: Path) -> None:
    encoder = HuggingFaceEncoder(str(tiny_bert))
    head = TaggingHead(32, LABELS)
    with pytest.raises(DataError, match="'7' has no words; sequence labelling needs a word-level reader"):
        head.featurize("ner", [Example("7", "plain text")], encoder, max_length=16, labels=LABELS, source="f")
    bad = _sentence(3, ["a", "b"], ["O", "B-Gene"])
    with pytest.raises(DataError, match="f: example '3' has tag 'B-Gene'"):
        head.featurize("ner", [bad], encoder, max_length=16, labels=LABELS, source="f")
    short = _sentence(4, ["a", "b"], ["O"])
    with pytest.raises(DataError, match="2 words but 1 tags"):
        head.featurize("ner", [short], encoder, max_length=16, labels=LABELS, source="f")
    with pytest.raises(ConfigurationError, match="needs the task's labels"):
        TaggingHead(32, None)
