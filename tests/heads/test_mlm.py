"""The masked-LM head, loss and metric on tiny models of several encoder families."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mtdnn.config import build
from mtdnn.data.dataset import featurize_examples
from mtdnn.encoders import HuggingFaceEncoder
from mtdnn.errors import ConfigurationError
from mtdnn.heads.base import Head
from mtdnn.heads.mlm import IGNORE, MaskedLmHead
from mtdnn.losses.mlm import MaskedLmLoss
from mtdnn.metrics.masked_lm import MaskedLmMetric
from mtdnn.model import MultiTaskModel
from mtdnn.registry import Registry
from mtdnn.types import Example, MaskedTokens, TaskBatch
from tests.encoders.families import shipped_texts


def _batch(encoder: HuggingFaceEncoder, texts: list[str]) -> TaskBatch:
    examples = [Example(id=str(i), text_a=text) for i, text in enumerate(texts)]
    inputs = encoder.collate(encoder.featurize(examples, max_length=64))
    return TaskBatch(task="mlm", inputs=inputs, labels=None, ids=[e.id for e in examples])


def _head(encoder: HuggingFaceEncoder, **options: object) -> MaskedLmHead:
    return MaskedLmHead(encoder=encoder, input_dim=encoder.output_dim, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def texts(repo_root: Path) -> list[str]:
    return list(shipped_texts(repo_root))[:400]


@pytest.mark.parametrize("family", ["bert", "roberta", "electra", "deberta_v2"])
def test_masking_follows_the_80_10_10_rule_and_never_touches_padding_or_special_tokens(
    family_dirs: dict[str, Path], family: str, texts: list[str]
) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs[family]))
    head = _head(encoder)
    batch = _batch(encoder, texts)
    torch.manual_seed(0)
    masked = head.prepare(batch)
    ids, new, labels = batch.inputs["input_ids"], masked.inputs["input_ids"], masked.labels
    assert labels is not None
    chosen = labels != IGNORE
    vocabulary = encoder.token_vocabulary()
    special = torch.tensor([int(i) in vocabulary.special_ids for i in ids.flatten()]).view_as(ids)
    candidates = batch.inputs["attention_mask"].bool() & ~special
    assert not (chosen & ~candidates).any()  # no padding, [CLS], [SEP], <s>, </s> is ever chosen
    assert torch.equal(labels[chosen], ids[chosen])
    assert torch.equal(new[~chosen], ids[~chosen])
    assert chosen.any(dim=1).all()  # every sequence predicts at least one token
    share = chosen.sum() / candidates.sum()
    assert 0.13 < share < 0.19
    to_mask = (new[chosen] == vocabulary.mask_id).float().mean()
    unchanged = (new[chosen] == ids[chosen]).float().mean()
    assert 0.74 < to_mask < 0.86
    assert 0.05 < unchanged < 0.16
    replaced = new[chosen & (new != ids) & (new != vocabulary.mask_id)]
    assert replaced.numel() > 0 and not any(int(i) in vocabulary.special_ids for i in replaced)


def test_training_masks_are_fresh_and_evaluation_masks_are_fixed(
    family_dirs: dict[str, Path], texts: list[str]
) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs["bert"]))
    head = _head(encoder)
    batch = _batch(encoder, texts[:32])
    first, second = head.prepare(batch).labels, head.prepare(batch).labels
    assert first is not None and second is not None and not torch.equal(first, second)
    head.eval()
    torch.manual_seed(1)
    once = head.prepare(batch).labels
    torch.manual_seed(2)
    again = head.prepare(batch).labels
    assert once is not None and again is not None and torch.equal(once, again)


def test_the_decoder_is_tied_to_the_word_embeddings(family_dirs: dict[str, Path], texts: list[str]) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs["electra"]))  # embeddings 16 wide, states 32
    head = _head(encoder)
    model = MultiTaskModel(encoder, {"mlm": head})
    table = encoder.word_embeddings().weight
    assert not any(p is table for p in head.parameters())  # owned (and saved) by the encoder only
    assert sum(p is table for p in model.parameters()) == 1
    batch = model.prepare(_batch(encoder, texts[:8]))
    output = model(batch)
    assert output.logits.shape[1] == table.size(0)
    MaskedLmLoss()(output, batch).backward()
    assert table.grad is not None and table.grad.abs().sum() > 0
    untied = _head(encoder, tie_weights=False)
    assert untied.decoder is not None and untied.decoder.weight.shape == (table.size(0), 32)


def test_logits_only_for_the_masked_tokens_and_the_loss_is_their_cross_entropy(
    family_dirs: dict[str, Path], texts: list[str]
) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs["roberta"]))
    model = MultiTaskModel(encoder, {"mlm": _head(encoder)})
    batch = _batch(encoder, texts[:16])
    torch.manual_seed(3)
    output = model(model.prepare(batch))
    torch.manual_seed(3)
    labels = model.head("mlm").prepare(batch).labels
    assert labels is not None and output.targets is not None and output.rows is not None
    assert output.logits.shape == ((labels != IGNORE).sum(), encoder.token_vocabulary().size)
    assert torch.equal(output.targets, labels[labels != IGNORE])
    assert torch.equal(output.rows, (labels != IGNORE).nonzero()[:, 0])
    expected = -torch.log_softmax(output.logits, -1).gather(1, output.targets[:, None]).mean()
    torch.testing.assert_close(MaskedLmLoss()(output, batch), expected)


def test_per_sequence_predictions_feed_the_token_level_metric(
    family_dirs: dict[str, Path], texts: list[str]
) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs["bert"]))
    model = MultiTaskModel(encoder, {"mlm": _head(encoder)}).eval()
    batch = model.prepare(_batch(encoder, texts[:16]))
    with torch.no_grad():  # as evaluation runs it
        output = model(batch)
    head = model.head("mlm")
    rows = head.row_scores(output, batch)
    data = featurize_examples(
        "mlm", [Example(id=str(i), text_a=t) for i, t in enumerate(texts[:16])], encoder, max_length=64,
        labels=None, source="texts",
    )  # fmt: skip
    predictions = head.decode(data, rows)
    assert len(predictions) == 16 and all(isinstance(p, MaskedTokens) for p in predictions)
    assert output.targets is not None
    assert sum(p.masked for p in predictions) == len(output.targets)
    assert all(p.masked >= 1 for p in predictions)  # at least one token masked per sequence
    assert set(head.record(predictions[0], data.examples[0])) == {"masked", "correct", "loss"}
    metric = MaskedLmMetric()
    assert head.accepts(metric)
    head.update_metric(metric, data, predictions)
    scores = metric.compute()
    correct = (output.logits.argmax(-1) == output.targets).float().mean()
    loss = torch.nn.functional.cross_entropy(output.logits, output.targets)
    assert scores["accuracy"] == pytest.approx(float(correct))
    assert scores["loss"] == pytest.approx(float(loss), rel=1e-5)
    assert scores["perplexity"] == pytest.approx(float(loss.exp()), rel=1e-5)
    assert not hasattr(head, "predict") and not hasattr(head, "probabilities")  # no counts under those names


def test_builds_from_config_with_the_encoder_given_at_run_time(
    registry: Registry, family_dirs: dict[str, Path]
) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs["bert"]))
    head = build(
        registry, Head, {"type": "mlm", "mask_probability": 0.2}, path="head", encoder=encoder, input_dim=32
    )
    assert isinstance(head, MaskedLmHead) and head.mask_probability == 0.2
    with pytest.raises(ConfigurationError, match="mask_probability"):
        _head(encoder, mask_probability=1.5)
    with pytest.raises(ConfigurationError, match="sum to at most 1"):
        _head(encoder, mask_replace=0.8, random_replace=0.3)


def test_an_encoder_without_a_mask_token_is_refused(tmp_path: Path, family_dirs: dict[str, Path]) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(family_dirs["bert"]))
    tokenizer.mask_token = None
    folder = tmp_path / "no-mask"
    tokenizer.save_pretrained(str(folder))
    for name in ("config.json", "model.safetensors"):
        (folder / name).write_bytes((family_dirs["bert"] / name).read_bytes())
    with pytest.raises(ConfigurationError, match="no mask token"):
        _head(HuggingFaceEncoder(str(folder)))
