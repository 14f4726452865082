"""The `hf` encoder on BERT, RoBERTa, DistilBERT, ELECTRA and DeBERTa-v2 (tiny models, trained tokenizers)."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
import torch

from mtdnn.encoders import HuggingFaceEncoder
from mtdnn.errors import ConfigurationError
from mtdnn.types import Example
from tests.encoders.families import FAMILIES

PAIR = Example(id="p", text_a="The cat sat on the mat.", text_b="A dog barked loudly.")
SINGLE = Example(id="s", text_a="It was a truly wonderful film.")
LONG = Example(id="l", text_a="The committee approved the budget after a long debate " * 3)

# the special tokens around a pair, as each family's tokenizer lays it out
LAYOUT = {
    "bert": ("[CLS]", ["[SEP]"], "[SEP]"),
    "distilbert": ("[CLS]", ["[SEP]"], "[SEP]"),
    "electra": ("[CLS]", ["[SEP]"], "[SEP]"),
    "deberta_v2": ("[CLS]", ["[SEP]"], "[SEP]"),
    "roberta": ("<s>", ["</s>", "</s>"], "</s>"),
    "mpnet": ("<s>", ["</s>", "</s>"], "</s>"),  # as the real all-mpnet-base-v2 lays pairs out
}
HAS_TOKEN_TYPES = {"bert", "electra", "deberta_v2"}
HAS_POOLER = {"bert", "roberta", "mpnet"}
NO_CHECKPOINTING = {"mpnet"}


def _batch(encoder: HuggingFaceEncoder, *examples: Example) -> dict[str, torch.Tensor]:
    return encoder.collate(encoder.featurize(list(examples), max_length=32))


@pytest.mark.parametrize("family", FAMILIES)
def test_pairs_are_laid_out_as_the_familys_own_tokenizer_does(
    family_dirs: dict[str, Path], family: str
) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs[family]))
    [features] = encoder.featurize([PAIR], max_length=64)
    tokens = encoder.tokenizer.convert_ids_to_tokens(features["input_ids"])
    alone_a = encoder.tokenizer.tokenize(PAIR.text_a)
    alone_b = encoder.tokenizer.tokenize(PAIR.text_b or "")
    start, middle, end = LAYOUT[family]
    assert tokens == [start, *alone_a, *middle, *alone_b, end]
    assert ("token_type_ids" in features) == (family in HAS_TOKEN_TYPES)
    if family in HAS_TOKEN_TYPES:
        first_segment = 1 + len(alone_a) + len(middle)
        assert features["token_type_ids"] == [0] * first_segment + [1] * (len(tokens) - first_segment)


@pytest.mark.parametrize("family", FAMILIES)
def test_padding_uses_the_tokenizers_pad_id_and_does_not_change_a_rows_states(
    family_dirs: dict[str, Path], family: str
) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs[family])).eval()
    batch = _batch(encoder, SINGLE, LONG)
    alone = _batch(encoder, SINGLE)
    length = alone["input_ids"].size(1)
    assert batch["input_ids"].size(1) > length
    assert (batch["input_ids"][0, length:] == encoder.tokenizer.pad_token_id).all()
    with torch.no_grad():
        padded, single = encoder(batch), encoder(alone)
    torch.testing.assert_close(padded.hidden[0, :length], single.hidden[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(padded.pooled[0], single.pooled[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_auto_pooling_takes_the_pooler_where_the_model_has_one_else_the_first_token(
    family_dirs: dict[str, Path], family: str
) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs[family]), pooling="auto").eval()
    batch = _batch(encoder, PAIR, SINGLE)
    with torch.no_grad():
        output = encoder(batch)
        raw = encoder.model(**{k: v for k, v in batch.items() if k in encoder.input_names})
    expected = raw.pooler_output if family in HAS_POOLER else raw.last_hidden_state[:, 0]
    assert encoder.pooling == ("pooler" if family in HAS_POOLER else "cls")
    torch.testing.assert_close(output.pooled, expected)
    if family not in HAS_POOLER:
        with pytest.raises(ConfigurationError, match="has no pooler"):
            HuggingFaceEncoder(str(family_dirs[family]), pooling="pooler")


@pytest.mark.parametrize("family", FAMILIES)
def test_forward_from_unperturbed_embeddings_is_exactly_the_normal_forward(
    family_dirs: dict[str, Path], family: str
) -> None:
    # RoBERTa derives position ids from input_ids; feeding inputs_embeds instead would change them,
    # and the original mt-dnn added position and type embeddings twice on this path
    encoder = HuggingFaceEncoder(str(family_dirs[family]), pooling="mean").eval()
    batch = _batch(encoder, PAIR, SINGLE)
    with torch.no_grad():
        normal = encoder(batch)
        embedded = encoder.forward_embedded(batch, encoder.embed(batch))
    assert torch.equal(normal.hidden, embedded.hidden)
    assert torch.equal(normal.pooled, embedded.pooled)


@pytest.mark.parametrize("family", FAMILIES)
def test_a_perturbation_of_the_embeddings_changes_the_output_and_receives_gradients(
    family_dirs: dict[str, Path], family: str
) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs[family]))
    batch = _batch(encoder, PAIR)
    embeddings = encoder.embed(batch).detach()
    delta = torch.zeros_like(embeddings).normal_(std=1.0).requires_grad_()
    perturbed = encoder.forward_embedded(batch, embeddings + delta)
    assert not torch.allclose(perturbed.pooled, encoder(batch).pooled)
    (
        perturbed.pooled * torch.randn_like(perturbed.pooled)
    ).sum().backward()  # LayerNorm: a plain sum is constant
    assert delta.grad is not None and delta.grad.abs().sum() > 0
    # the hook is gone afterwards: the normal path ignores the old perturbation
    assert torch.equal(
        encoder.eval()(batch).hidden, encoder.forward_embedded(batch, encoder.embed(batch)).hidden
    )


def test_embeddings_of_the_wrong_shape_are_refused(family_dirs: dict[str, Path]) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs["bert"]))
    batch = _batch(encoder, PAIR)
    with pytest.raises(ValueError, match="do not fit"):
        encoder.forward_embedded(batch, encoder.embed(batch)[:, :-1])


@pytest.mark.parametrize("family", FAMILIES)
def test_num_layers_keeps_the_first_layers_with_their_pretrained_weights(
    family_dirs: dict[str, Path], family: str
) -> None:
    full = HuggingFaceEncoder(str(family_dirs[family]))
    small = HuggingFaceEncoder(str(family_dirs[family]), num_layers=1)
    assert small.num_layers == 1 and full.num_layers == 2
    full_state = full.state_dict()
    small_state = small.state_dict()
    assert set(small_state) < set(full_state)
    assert any(".0." in name for name in small_state) and not any(".1." in name for name in small_state)
    for name, tensor in small_state.items():
        assert torch.equal(tensor, full_state[name]), name
    with pytest.raises(ConfigurationError, match="num_layers must be between 1 and"):
        HuggingFaceEncoder(str(family_dirs[family]), num_layers=3)


@pytest.mark.parametrize("family", FAMILIES)
def test_freeze_layers_stops_the_embeddings_and_the_lowest_layers_from_learning(
    family_dirs: dict[str, Path], family: str
) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs[family]), freeze_layers=1)
    encoder(_batch(encoder, PAIR, SINGLE)).hidden.pow(2).sum().backward()
    frozen = {name for name, p in encoder.named_parameters() if not p.requires_grad}
    assert frozen
    for name, parameter in encoder.named_parameters():
        lower = "embeddings" in name or ".0." in name
        assert (name in frozen) == lower, name
        if lower:
            assert parameter.grad is None, name
    top = [p for name, p in encoder.named_parameters() if ".1." in name]
    assert top and any(p.grad is not None and p.grad.abs().sum() > 0 for p in top)


def test_freeze_stops_every_encoder_parameter(family_dirs: dict[str, Path]) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs["bert"]), freeze=True)
    assert not any(p.requires_grad for p in encoder.parameters())
    with pytest.raises(ConfigurationError, match="freeze_layers must be between 0 and"):
        HuggingFaceEncoder(str(family_dirs["bert"]), freeze_layers=5)


@pytest.mark.parametrize("family", FAMILIES)
def test_gradient_checkpointing_recomputes_layers_and_gives_the_same_gradients(
    family_dirs: dict[str, Path], family: str
) -> None:
    if family in NO_CHECKPOINTING:  # transformers' MPNetModel cannot: a clear error, not a silent no-op
        with pytest.raises(ConfigurationError, match="MPNetModel does not support gradient checkpointing"):
            HuggingFaceEncoder(str(family_dirs[family]), gradient_checkpointing=True)
        return
    gradients = []
    for checkpointing in (False, True):
        encoder = HuggingFaceEncoder(str(family_dirs[family]), gradient_checkpointing=checkpointing).train()
        [first_layer] = [m for name, m in encoder.named_modules() if re.fullmatch(r".*\.layer\.0", name)]
        calls: list[int] = []
        inner = next(first_layer.children())  # the layer's own hooks fire once either way
        inner.register_forward_hook(lambda *_, calls=calls: calls.append(1))
        hidden = encoder(_batch(encoder, PAIR, LONG)).hidden
        # a fixed projection (the squared norm of a LayerNorm output is constant: no real gradient)
        (hidden * torch.linspace(-1, 1, hidden.shape[-1])).sum().backward()
        assert len(calls) == (2 if checkpointing else 1)  # run again in the backward pass
        gradients.append({n: p.grad for n, p in encoder.named_parameters() if p.grad is not None})
    assert gradients[0].keys() == gradients[1].keys()
    for name, gradient in gradients[0].items():
        torch.testing.assert_close(gradients[1][name], gradient, atol=1e-6, rtol=1e-5, msg=name)


@pytest.mark.parametrize("family", FAMILIES)
def test_inputs_built_from_token_ids_equal_the_tokenizers_own_encoding(
    family_dirs: dict[str, Path], family: str
) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs[family]))
    first, second = encoder.tokenize([PAIR.text_a, str(PAIR.text_b)])
    built, start_a, start_b = encoder.build_inputs(first.ids, second.ids)
    assert built == encoder.featurize([PAIR], max_length=64)[0]
    assert built["input_ids"][start_a : start_a + len(first.ids)] == list(first.ids)
    assert start_b is not None
    assert built["input_ids"][start_b : start_b + len(second.ids)] == list(second.ids)
    single, start, none = encoder.build_inputs(first.ids)
    assert single == encoder.featurize([Example(id="a", text_a=PAIR.text_a)], max_length=64)[0]
    assert (start, none) == (1, None)
    assert encoder.special_tokens(pair=True) == len(built["input_ids"]) - len(first.ids) - len(second.ids)


@pytest.mark.parametrize("family", FAMILIES)
def test_token_offsets_point_at_the_characters_each_token_comes_from(
    family_dirs: dict[str, Path], family: str
) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs[family]))
    text = "The cat sat on the mat."
    (pieces,) = encoder.tokenize([text])
    spans = [text[start:end].strip() for start, end in pieces.offsets]
    # SentencePiece (DeBERTa-v2) may emit a lone word-start marker whose span is the space itself
    assert "".join(spans) == text.replace(" ", "")
    decoded = encoder.tokenizer.decode(list(pieces.ids))
    assert decoded.replace(" ", "").lower() == text.replace(" ", "").lower()


@pytest.mark.parametrize("family", FAMILIES)
def test_max_positions_is_the_longest_input_the_model_encodes(
    family_dirs: dict[str, Path], family: str
) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs[family])).eval()
    limit = encoder.max_positions
    assert limit is not None
    word = encoder.tokenize(["cat"])[0].ids[0]
    longest, _, _ = encoder.build_inputs([word] * (limit - encoder.special_tokens(pair=False)))
    with torch.no_grad():
        assert encoder(encoder.collate([longest])).hidden.shape[1] == limit
        too_long, _, _ = encoder.build_inputs([word] * (limit + 1 - encoder.special_tokens(pair=False)))
        with pytest.raises((IndexError, RuntimeError, ValueError)):
            encoder(encoder.collate([too_long]))


# laid out as BERT or MPNet: the last layer runs for one token
TRIMMED = {"bert", "roberta", "electra", "mpnet"}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("pooling", ["cls", "auto"])
def test_pooled_only_gives_the_same_pooled_vector_and_gradients_for_less_work(
    family_dirs: dict[str, Path], family: str, pooling: str
) -> None:
    if pooling == "auto" and family not in HAS_POOLER:
        pytest.skip("without a pooler, auto is cls (the other case)")
    torch.manual_seed(0)
    encoder = HuggingFaceEncoder(str(family_dirs[family]), pooling=pooling).train()  # type: ignore[arg-type]
    inputs = _batch(encoder, PAIR, LONG, SINGLE)  # padded rows, with and without token types
    keys = list(encoder.state_dict())
    results = []
    for trimmed in (False, True):
        encoder.zero_grad()
        with encoder.pooled_only() if trimmed else contextlib.nullcontext():
            output = encoder(inputs)
        # a fixed projection: the squared norm of a LayerNorm output is constant, so its
        # gradients would be rounding noise
        (output.pooled * torch.linspace(-1, 1, output.pooled.shape[-1])).sum().backward()
        gradients = {n: p.grad.clone() for n, p in encoder.named_parameters() if p.grad is not None}
        results.append((output, gradients))
    (full, full_grads), (trim, trim_grads) = results
    expected_positions = 1 if family in TRIMMED else inputs["input_ids"].shape[1]
    assert full.hidden.shape[1] == inputs["input_ids"].shape[1]
    assert trim.hidden.shape[1] == expected_positions
    torch.testing.assert_close(trim.pooled, full.pooled, atol=1e-5, rtol=1e-4)
    assert trim_grads.keys() == full_grads.keys()  # every weight of the last layer still learns
    for name, gradient in full_grads.items():
        torch.testing.assert_close(trim_grads[name], gradient, atol=1e-5, rtol=1e-4, msg=name)
    assert list(encoder.state_dict()) == keys  # the layer is back in its place


def test_pooled_only_runs_whole_for_mean_pooling_and_for_trim_last_layer_false(
    family_dirs: dict[str, Path],
) -> None:
    for options in ({"pooling": "mean"}, {"trim_last_layer": False}):
        encoder = HuggingFaceEncoder(str(family_dirs["bert"]), **options).eval()  # type: ignore[arg-type]
        inputs = _batch(encoder, PAIR, LONG)
        with encoder.pooled_only():
            assert encoder(inputs).hidden.shape == (*inputs["input_ids"].shape, encoder.output_dim)


def test_the_last_layer_is_put_back_after_an_error(family_dirs: dict[str, Path]) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs["bert"])).eval()
    last = encoder.model.encoder.layer[-1]
    # a token id beyond the vocabulary: the embedding lookup fails inside the block
    bad = {"input_ids": torch.tensor([[10**6]]), "attention_mask": torch.tensor([[1]])}
    with pytest.raises(IndexError), encoder.pooled_only():
        encoder(bad)
    assert encoder.model.encoder.layer[-1] is last
