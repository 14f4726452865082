"""MultiTaskModel: a batch is prepared once, and forward passes may perturb the word embeddings."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mtdnn.encoders import HuggingFaceEncoder
from mtdnn.heads import ClassificationHead, MaskedLmHead
from mtdnn.model import MultiTaskModel
from mtdnn.types import Example, TaskBatch

TEXTS = [
    ("the cat sat on the mat", "a cat was sitting"),
    ("stocks fell sharply today", "markets rose"),
    ("she plays the violin", "music is her hobby and she practises daily"),
]


def _model(tiny_bert: Path) -> MultiTaskModel:
    torch.manual_seed(0)
    encoder = HuggingFaceEncoder(str(tiny_bert))
    heads = {
        "pair": ClassificationHead(encoder.output_dim, 3),
        "mlm": MaskedLmHead(encoder=encoder, input_dim=32),
    }
    return MultiTaskModel(encoder, heads)


def _batch(model: MultiTaskModel, task: str) -> TaskBatch:
    examples = [Example(id=str(i), text_a=a, text_b=b) for i, (a, b) in enumerate(TEXTS)]
    features = model.encoder.featurize(examples, max_length=32)
    labels = torch.tensor([0, 1, 2]) if task == "pair" else None
    return TaskBatch(task=task, inputs=model.encoder.collate(features), labels=labels, ids=("0", "1", "2"))


def test_an_identity_perturbation_is_the_plain_forward_pass(tiny_bert: Path) -> None:
    model = _model(tiny_bert).eval()
    batch = model.prepare(_batch(model, "pair"))
    plain = model(batch).logits
    # Position and token-type embeddings are added once, by the encoder, after the perturbation.
    assert torch.equal(model(batch, perturb=lambda embeddings: embeddings).logits, plain)
    doubled = model(batch, perturb=lambda embeddings: 2 * embeddings).logits
    assert not torch.allclose(doubled, plain)


def test_gradients_reach_a_perturbation_of_the_word_embeddings(tiny_bert: Path) -> None:
    model = _model(tiny_bert).eval()
    batch = model.prepare(_batch(model, "pair"))
    shape = (*batch.inputs["input_ids"].shape, 32)
    delta = torch.zeros(shape, requires_grad=True)
    seen: list[torch.Tensor] = []

    def perturb(embeddings: torch.Tensor) -> torch.Tensor:
        seen.append(embeddings)
        return embeddings + delta

    model(batch, perturb=perturb).logits.logsumexp(-1).sum().backward()
    [embeddings] = seen
    torch.testing.assert_close(embeddings, model.encoder.embed(batch.inputs))  # raw word embeddings
    assert delta.grad is not None and delta.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="do not fit"):
        model(batch, perturb=lambda embeddings: embeddings[:, :-1])


def test_a_prepared_batch_keeps_its_masks_for_every_forward_pass(tiny_bert: Path) -> None:
    model = _model(tiny_bert).train()
    torch.manual_seed(4)
    batch = model.prepare(_batch(model, "mlm"))
    first, second = model(batch), model(batch)  # e.g. R-Drop's two passes, or SMART's clean and perturbed
    assert first.targets is not None and second.targets is not None
    assert torch.equal(first.targets, second.targets) and torch.equal(first.rows, second.rows)  # type: ignore[arg-type]
    assert not torch.equal(first.logits, second.logits)  # dropout differs, the masked tokens do not
    again = model.prepare(_batch(model, "mlm"))  # the next batch is masked afresh
    assert again.labels is not None and batch.labels is not None
    assert not torch.equal(again.labels, batch.labels)


def test_an_unknown_task_names_the_tasks(tiny_bert: Path) -> None:
    model = _model(tiny_bert)
    with pytest.raises(KeyError, match=r"no head for task 'other'; tasks: \['mlm', 'pair'\]"):
        model.head("other")


def test_a_head_that_reads_only_the_pooled_vector_runs_the_last_layer_for_the_first_token(
    tiny_bert: Path,
) -> None:
    model = _model(tiny_bert).eval()
    encoder = model.encoder
    assert isinstance(encoder, HuggingFaceEncoder)
    shapes: list[tuple[int, ...]] = []
    encoder.register_forward_hook(lambda _m, _a, output: shapes.append(tuple(output.hidden.shape)))
    pair = model.prepare(_batch(model, "pair"))
    logits = model(pair).logits
    model(model.prepare(_batch(model, "mlm")))  # the masked-LM head reads every token
    length = pair.inputs["input_ids"].shape[1]
    assert shapes == [(3, 1, 32), (3, length, 32)]
    encoder.trim_last_layer = False
    torch.testing.assert_close(model(pair).logits, logits, atol=1e-6, rtol=1e-5)
    assert shapes[-1] == (3, length, 32)
    # the perturbed (adversarial) forward pass trims as well, and still matches the plain one
    encoder.trim_last_layer = True
    torch.testing.assert_close(model(pair, perturb=lambda embeddings: embeddings).logits, logits)
    assert shapes[-1] == (3, 1, 32)
