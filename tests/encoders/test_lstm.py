"""The LSTM encoder: vocabulary, spaCy words, pair layout, padding, pooling, saving, heads and training."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from mtdnn.api import evaluate_run, train
from mtdnn.config import build
from mtdnn.data import make_batch
from mtdnn.encoders import Encoder, LstmEncoder
from mtdnn.encoders.vocabulary import SPECIALS, WordIds
from mtdnn.errors import ConfigurationError
from mtdnn.experiment import build_experiment
from mtdnn.heads import Head
from mtdnn.heads.san import segment_masks
from mtdnn.losses import Loss
from mtdnn.model import MultiTaskModel
from mtdnn.registry import Registry
from mtdnn.task import Task
from mtdnn.types import Example, TaskBatch
from tests.conftest import quickstart_config

CORPUS = [
    "The cat sat on the mat.",
    "The dog sat on the log.",
    "A cat and a dog played.",
    "Nobody saw the zebra.",
]
SENTENCE = "Don't stop, Mr. O'Neil: it's 3.5km away (really)!"
PAIRS = [
    Example("1", "The cat sat on the mat.", "A dog played."),
    Example("2", "The dog sat.", "The cat and the dog sat on the log."),
    Example("3", "A cat.", "Nobody saw the cat on the mat."),
    Example("4", "The dog played on the mat and the cat sat on the log.", "A zebra."),
]
POOLINGS = ["max", "mean", "attention", "first", "last"]


def _encoder(**options: Any) -> LstmEncoder:
    torch.manual_seed(0)
    settings: dict[str, Any] = {"embedding_dim": 12, "hidden_size": 6, "corpus": lambda: iter(CORPUS)}
    encoder = LstmEncoder(**{**settings, **options})
    encoder.eval()
    return encoder


def _inputs(encoder: Encoder, examples: list[Example], max_length: int = 64) -> dict[str, torch.Tensor]:
    return encoder.collate(encoder.featurize(examples, max_length=max_length))


def test_the_vocabulary_comes_from_the_training_texts_by_count_with_unk_for_the_rest() -> None:
    encoder = _encoder(min_count=2)
    assert isinstance(encoder.ids, WordIds)
    # "the" 6 times, "." 4, then the words seen twice in order of first appearance.
    assert encoder.ids.words == [
        "<pad>",
        "<unk>",
        "<sep>",
        "<mask>",
        "the",
        ".",
        "cat",
        "sat",
        "on",
        "dog",
        "a",
    ]
    [feature] = encoder.featurize([Example("1", "The zebra sat on a mat")], max_length=16)
    unk = encoder.ids.unk_id
    assert unk == 1
    assert feature["input_ids"] == [4, unk, 7, 8, 10, unk]
    capped = _encoder(max_vocab_size=3)
    assert capped.ids.words == [*SPECIALS, "the", ".", "cat"]
    assert capped.embeddings.num_embeddings == 7
    with pytest.raises(ConfigurationError, match="empty vocabulary"):
        _encoder(min_count=100)


def test_words_follow_spacys_english_rules() -> None:
    ids = WordIds(lowercase=False)
    [words] = ids.tokenize([SENTENCE + "  \n"])
    expected = "Do n't stop , Mr. O'Neil : it 's 3.5 km away ( really ) !"
    assert words == expected.split(" ")
    [lowered] = WordIds().tokenize([SENTENCE])
    assert lowered[:6] == ["do", "n't", "stop", ",", "mr.", "o'neil"]


def test_a_pair_is_joined_by_the_separator_with_segment_ids_and_truncated_longest_first() -> None:
    encoder = _encoder()
    [pair, single] = encoder.featurize(
        [Example("1", "The cat sat.", "A dog"), Example("2", "")], max_length=16
    )
    words = [encoder.ids.words[i] for i in pair["input_ids"]]
    assert words == ["the", "cat", "sat", ".", "<sep>", "a", "dog"]
    assert pair["token_type_ids"] == [0, 0, 0, 0, 0, 1, 1]
    assert pair["attention_mask"] == [1] * 7
    assert single == {"input_ids": [encoder.ids.unk_id], "token_type_ids": [0], "attention_mask": [1]}
    long = " ".join(["cat"] * 30)
    [short_long, long_long] = encoder.featurize(
        [Example("3", "a dog", long), Example("4", long, long)], max_length=12
    )
    assert short_long["token_type_ids"] == [0, 0, 0] + [1] * 9
    assert long_long["token_type_ids"] == [0] * 7 + [1] * 5  # 6 words and the separator, 5 words
    # The SAN head finds the premise (text_a and the separator) and the hypothesis by token type.
    inputs = _inputs(encoder, [PAIRS[0], Example("5", "The cat.")])
    premise, hypothesis = segment_masks(inputs, inputs["attention_mask"])
    assert premise.sum(dim=1).tolist() == [8, 3]  # 7 words + <sep>; a single text is both
    assert hypothesis.sum(dim=1).tolist() == [4, 3]


def test_inputs_built_from_word_ids_equal_featurize_and_offsets_point_at_the_words() -> None:
    encoder = _encoder()
    first, second = encoder.tokenize([str(PAIRS[0].text_a), str(PAIRS[0].text_b)])
    built, start_a, start_b = encoder.build_inputs(first.ids, second.ids)
    assert built == encoder.featurize([PAIRS[0]], max_length=64)[0]
    assert (start_a, start_b) == (0, len(first.ids) + 1)
    assert encoder.special_tokens(pair=True) == 1 and encoder.special_tokens(pair=False) == 0
    text = str(PAIRS[0].text_a)
    assert [text[a:b] for a, b in first.offsets] == ["The", "cat", "sat", "on", "the", "mat", "."]


@pytest.mark.parametrize("pooling", POOLINGS)
def test_padding_changes_no_row_of_a_batch(pooling: str) -> None:
    encoder = _encoder(pooling=pooling, num_layers=2)
    batch = encoder(_inputs(encoder, PAIRS))
    assert batch.hidden.shape == (4, batch.mask.size(1), 12) and batch.pooled.shape == (4, 12)
    for row, example in enumerate(PAIRS):
        alone = encoder(_inputs(encoder, [example]))
        length = alone.hidden.size(1)
        torch.testing.assert_close(batch.hidden[row, :length], alone.hidden[0], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(batch.pooled[row], alone.pooled[0], rtol=1e-5, atol=1e-6)
        assert not batch.hidden[row, length:].any()  # padded positions hold no state


def test_each_pooling_summarises_the_real_token_states() -> None:
    pooled = {}
    for pooling in POOLINGS:
        encoder = _encoder(pooling=pooling)
        output = encoder(_inputs(encoder, PAIRS[:2]))
        real = output.hidden[1, : int(output.mask[1].sum())]  # the longer row has no padding
        short = output.hidden[0, : int(output.mask[0].sum())]
        pooled[pooling] = output.pooled
        if pooling == "max":
            torch.testing.assert_close(output.pooled[0], short.max(dim=0).values)
        elif pooling == "mean":
            torch.testing.assert_close(output.pooled[0], short.mean(dim=0))
        elif pooling == "first":
            torch.testing.assert_close(output.pooled[0], short[0])
        elif pooling == "last":
            torch.testing.assert_close(output.pooled[0], torch.cat([short[-1, :6], short[0, 6:]]))
        else:  # a convex combination of the real states: within their range
            assert encoder.attention is not None
            weights = torch.softmax(encoder.attention(short).squeeze(-1), dim=0)
            torch.testing.assert_close(output.pooled[0], weights @ short)
        assert real.shape[0] > short.shape[0]
    assert not torch.allclose(pooled["max"], pooled["mean"])


def test_gradients_reach_the_embeddings_of_the_tokens_used() -> None:
    encoder = _encoder(dropout=0.0)
    encoder.train()
    inputs = _inputs(encoder, [Example("1", "the cat", "a dog")])
    encoder(inputs).pooled.sum().backward()
    grad = encoder.embeddings.weight.grad
    assert grad is not None
    used = set(inputs["input_ids"][0].tolist())
    for token in range(encoder.embeddings.num_embeddings):
        assert bool(grad[token].any()) == (token in used), encoder.ids.words[token]
    assert encoder.segments.weight.grad is not None and encoder.segments.weight.grad.any()
    frozen = _encoder(freeze_embeddings=True)
    frozen(inputs).pooled.sum().backward()
    assert frozen.embeddings.weight.grad is None
    assert frozen.lstm.weight_ih_l0.grad is not None


def test_forward_embedded_of_embed_is_forward_and_a_perturbation_has_a_gradient() -> None:
    encoder = _encoder(pooling="attention")
    inputs = _inputs(encoder, PAIRS)
    plain = encoder(inputs)
    embedded = encoder.forward_embedded(inputs, encoder.embed(inputs))
    assert torch.equal(embedded.hidden, plain.hidden) and torch.equal(embedded.pooled, plain.pooled)
    delta = torch.zeros_like(encoder.embed(inputs), requires_grad=True)
    perturbed = encoder.forward_embedded(inputs, encoder.embed(inputs) + delta)
    perturbed.pooled.pow(2).sum().backward()
    assert delta.grad is not None and delta.grad.abs().sum() > 0
    shifted = encoder.forward_embedded(inputs, encoder.embed(inputs) + 0.5)
    assert not torch.allclose(shifted.pooled, plain.pooled)


def test_an_hf_tokenizer_gives_the_ids_and_embeddings_from_copies_the_models_table(tiny_bert: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    encoder = LstmEncoder(tokenizer=str(tiny_bert), embeddings_from=str(tiny_bert), hidden_size=8)
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_bert))
    table = AutoModel.from_pretrained(str(tiny_bert)).get_input_embeddings().weight
    assert encoder.embeddings.embedding_dim == 32
    assert torch.equal(encoder.embeddings.weight, table[: len(tokenizer)])
    [feature] = encoder.featurize([Example("1", "The cat sat.", "A dog")], max_length=16)
    tokens = tokenizer.convert_ids_to_tokens(feature["input_ids"])
    assert tokens == ["the", "cat", "sat", ".", "[SEP]", "a", "dog"]
    assert feature["token_type_ids"] == [0] * 5 + [1] * 2
    random = LstmEncoder(tokenizer=str(tiny_bert), embedding_dim=10, hidden_size=8)
    assert random.embeddings.weight.shape == (len(tokenizer), 10)
    with pytest.raises(ConfigurationError, match="needs a Hugging Face tokenizer"):
        _encoder(embeddings_from=str(tiny_bert))
    with pytest.raises(ConfigurationError, match="embedding_dim 12 differs"):
        LstmEncoder(tokenizer=str(tiny_bert), embeddings_from=str(tiny_bert), embedding_dim=12)


@pytest.mark.parametrize("mode", ["words", "huggingface"])
def test_save_and_rebuild_from_archive_params_without_the_corpus(
    mode: str, tmp_path: Path, tiny_bert: Path, registry: Registry
) -> None:
    params: dict[str, Any] = {"pooling": "attention", "hidden_size": 6, "num_layers": 2}
    if mode == "words":
        params.update(embedding_dim=12, lowercase=False, min_count=1)
        encoder = LstmEncoder(**params, corpus=lambda: iter(CORPUS))
    else:
        params.update(tokenizer=str(tiny_bert), embeddings_from=str(tiny_bert))
        encoder = LstmEncoder(**params)
    encoder.eval()
    with torch.no_grad():
        for parameter in encoder.parameters():
            parameter.add_(0.01 * torch.randn_like(parameter))  # trained weights, not the initial ones
    encoder.save_pretrained(tmp_path / "enc")
    rebuilt_params = LstmEncoder.archive_params(params, tmp_path / "enc")
    assert "embeddings_from" not in rebuilt_params
    again = build(registry, Encoder, {"type": "lstm", **rebuilt_params}, path="encoder")  # no corpus
    assert isinstance(again, LstmEncoder)
    again.load_pretrained(tmp_path / "enc")
    again.eval()
    assert again.ids.vocabulary() == encoder.ids.vocabulary()
    inputs = _inputs(encoder, [*PAIRS, Example("5", "Zebras are unknown here")])
    assert torch.equal(again(inputs).pooled, encoder(inputs).pooled)
    assert again.featurize(PAIRS, max_length=32) == encoder.featurize(PAIRS, max_length=32)


def test_load_pretrained_refuses_an_encoder_with_other_word_ids(tmp_path: Path) -> None:
    _encoder().save_pretrained(tmp_path / "enc")
    other = LstmEncoder(embedding_dim=12, hidden_size=6, corpus=lambda: iter(["other words entirely"]))
    with pytest.raises(ConfigurationError, match="other token ids") as info:
        other.load_pretrained(tmp_path / "enc")
    assert "encoder.vocabulary" in str(info.value)
    same = _encoder(vocabulary=str(tmp_path / "enc" / "vocab.json"))
    same.load_pretrained(tmp_path / "enc")
    assert torch.equal(same.lstm.weight_hh_l0, _encoder().lstm.weight_hh_l0)


def test_bad_options_are_configuration_errors(registry: Registry, tiny_bert: Path) -> None:
    with pytest.raises(ConfigurationError, match="needs a vocabulary") as info:
        build(registry, Encoder, {"type": "lstm"}, path="encoder")
    assert info.value.path == "encoder.vocabulary"
    with pytest.raises(ConfigurationError, match="neither 'words' nor a folder"):
        build(registry, Encoder, {"type": "lstm", "tokenizer": "wrods"}, path="encoder")
    with pytest.raises(ConfigurationError, match="hidden_size must be at least 1"):
        _encoder(hidden_size=0)
    with pytest.raises(ConfigurationError, match="dropout"):
        _encoder(dropout=1.0)
    with pytest.raises(ConfigurationError, match="vocabulary is for the 'words' tokenizer"):
        LstmEncoder(tokenizer=str(tiny_bert), vocabulary="vocab.json")
    with pytest.raises(ConfigurationError, match="supplied at runtime"):
        build(registry, Encoder, {"type": "lstm", "corpus": ["a"]}, path="encoder", corpus=lambda: iter([]))


def test_layer_depths_put_the_embeddings_deepest() -> None:
    depths = _encoder(num_layers=3, pooling="attention").parameter_depths()
    assert depths["embeddings.weight"] == depths["segments.weight"] == 3
    assert depths["lstm.weight_ih_l0"] == depths["lstm.bias_hh_l0_reverse"] == 2
    assert depths["lstm.weight_hh_l2_reverse"] == 0
    assert depths["attention.weight"] == 0


HEADS = {
    "classification": ("cross_entropy", 3, torch.tensor([0, 2, 1, 0])),
    "san": ("cross_entropy", 3, torch.tensor([0, 2, 1, 0])),
    "regression": ("mse", 1, torch.tensor([0.5, 1.0, 0.0, 2.0])),
    "ranking": ("ranking_ce", 2, torch.tensor([0, 1, 1, 0])),
    "multilabel": (
        "bce",
        3,
        torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]]),
    ),
}


@pytest.mark.parametrize("head_type", sorted(HEADS))
def test_every_built_in_head_trains_on_lstm_outputs(head_type: str, registry: Registry) -> None:
    encoder = _encoder(pooling="max")
    encoder.train()
    loss_type, num_labels, labels = HEADS[head_type]
    head = build(
        registry,
        Head,
        {"type": head_type},
        path="head",
        input_dim=encoder.output_dim,
        num_labels=num_labels,
        task="t",
    )
    loss = build(registry, Loss, {"type": loss_type}, path="loss")
    batch = TaskBatch(
        task="t",
        inputs=_inputs(encoder, PAIRS),
        labels=labels,
        ids=("a", "b", "c", "d"),
        groups=torch.tensor([0, 0, 1, 1]),
    )
    output = head(encoder(batch.inputs), batch)
    value = loss(output, batch)
    assert value.ndim == 0 and torch.isfinite(value)
    value.backward()
    for name, parameter in [("lstm", encoder.lstm.weight_ih_l0), ("embeddings", encoder.embeddings.weight)]:
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
    assert head.predict(output).shape[0] == 4


@pytest.mark.parametrize("mode", ["words", "huggingface"])
def test_the_masked_lm_head_masks_with_the_encoders_mask_token_and_trains_the_tied_embeddings(
    mode: str, registry: Registry, tiny_bert: Path
) -> None:
    encoder = (
        _encoder()
        if mode == "words"
        else LstmEncoder(tokenizer=str(tiny_bert), embedding_dim=8, hidden_size=6)
    )
    vocabulary = encoder.token_vocabulary()
    if mode == "words":
        assert vocabulary.mask_id == encoder.ids.words.index("<mask>")
        assert vocabulary.special_ids == {0, 1, 2, 3}
    else:
        assert encoder.ids.vocabulary()["[MASK]"] == vocabulary.mask_id
    assert vocabulary.size == encoder.embeddings.num_embeddings
    head = build(
        registry, Head, {"type": "mlm"}, path="head", input_dim=encoder.output_dim, encoder=encoder, task="t"
    )
    model = MultiTaskModel(encoder, {"t": head})
    model.train()
    batch = TaskBatch(task="t", inputs=_inputs(encoder, PAIRS), labels=None, ids=("a", "b", "c", "d"))
    batch = model.prepare(batch)
    output = model(batch)
    loss = build(registry, Loss, {"type": "mlm"}, path="loss")(output, batch)
    loss.backward()
    assert output.targets is not None and len(output.targets) >= 4  # at least one token per row
    assert encoder.embeddings.weight.grad is not None
    assert encoder.embeddings.weight.grad[output.targets].abs().sum() > 0  # the tied decoder rows learn


def _lstm_quickstart(repo_root: Path, *, epochs: int) -> dict[str, Any]:
    config = quickstart_config(repo_root, "unused", epochs=epochs)
    config["encoder"] = {"type": "lstm", "embedding_dim": 64, "hidden_size": 64, "dropout": 0.0}
    config["trainer"]["optimizer"]["lr"] = 1e-2
    return config


def test_an_experiment_builds_the_vocabulary_from_its_training_files_only(
    repo_root: Path, registry: Registry
) -> None:
    config = _lstm_quickstart(repo_root, epochs=1)
    config["tasks"] = {"rte": {**config["tasks"]["rte"], "train_limit": 3}}
    experiment = build_experiment(config, registry)
    encoder = experiment.encoder
    assert isinstance(encoder, LstmEncoder) and isinstance(encoder.ids, WordIds)
    train = experiment.tasks["rte"].load("train", encoder)
    texts = [
        text for example in train.examples for text in (example.text_a, example.text_b) if text is not None
    ]
    assert len(texts) == 6
    words = {word for text_words in encoder.ids.tokenize(texts) for word in text_words}
    assert set(encoder.ids.words) == words | set(SPECIALS)
    assert encoder.output_dim == 128


def _sst2_training_loss(model: MultiTaskModel, task: Task) -> float:
    data = task.load("train", model.encoder)
    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(data), 128):
            batch = make_batch(data, range(start, min(start + 128, len(data))), model.encoder)
            total += float(task.settings.loss(model(batch), batch)) * len(batch)
    return total / len(data)


@pytest.mark.slow
def test_the_quickstart_trains_an_lstm_whose_sst2_loss_falls_and_whose_run_reloads(
    tmp_path: Path, repo_root: Path, registry: Registry
) -> None:
    config = _lstm_quickstart(repo_root, epochs=2)
    initial = build_experiment(config, registry)  # the same seed: the weights training starts from
    before = _sst2_training_loss(initial.model(), initial.tasks["sst2"])
    result = train(config, tmp_path / "run", registry)
    after = _sst2_training_loss(result.model, initial.tasks["sst2"])
    assert after < before - 0.1, (before, after)  # measured: 0.72 -> 0.53
    saved = json.loads((tmp_path / "run" / "model" / "encoder" / "lstm.json").read_text())
    assert saved["tokenizer"] == "words" and saved["embedding_dim"] == 64
    reloaded = evaluate_run(tmp_path / "run", registry)  # the saved best model, rebuilt without the corpus
    assert set(reloaded) == {"sst2", "mrpc", "rte"}
    for task, metrics in result.state.best_metrics.items():
        assert reloaded[task] == pytest.approx(metrics, abs=1e-9), task
