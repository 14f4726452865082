"""The Hugging Face encoder: pair layout, token types, pooling, saving and loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mtdnn.config import build
from mtdnn.encoders import Encoder, HuggingFaceEncoder
from mtdnn.errors import ConfigurationError
from mtdnn.registry import Registry
from mtdnn.types import Example


def test_pairs_follow_the_bert_layout_of_the_models_own_tokenizer(tiny_bert: Path) -> None:
    encoder = HuggingFaceEncoder(str(tiny_bert))
    [feature] = encoder.featurize([Example("1", "The cat sat.", "A cat was sitting.")], max_length=32)
    tokens = encoder.tokenizer.convert_ids_to_tokens(feature["input_ids"])
    assert tokens == ["[CLS]", "the", "cat", "sat", ".", "[SEP]", "a", "cat", "was", "sitting", ".", "[SEP]"]
    assert feature["token_type_ids"] == [0] * 6 + [1] * 6
    own = encoder.tokenizer("The cat sat.", "A cat was sitting.")
    assert feature["input_ids"] == own["input_ids"]


def test_long_pairs_are_truncated_to_max_length(tiny_bert: Path) -> None:
    encoder = HuggingFaceEncoder(str(tiny_bert))
    long = " ".join(["word"] * 100)
    [feature] = encoder.featurize([Example("1", long, long)], max_length=20)
    assert len(feature["input_ids"]) == 20


def test_single_texts_and_pairs_may_be_mixed(tiny_bert: Path) -> None:
    encoder = HuggingFaceEncoder(str(tiny_bert))
    examples = [Example("1", "a cat", "a dog"), Example("2", "hello"), Example("3", "x", "y")]
    mixed = encoder.featurize(examples, max_length=16)
    alone = [encoder.featurize([example], max_length=16)[0] for example in examples]
    assert mixed == alone
    assert mixed[1]["token_type_ids"] == [0, 0, 0]


@pytest.mark.parametrize("pooling", ["cls", "mean", "pooler"])
def test_pooling_ignores_padding(tiny_bert: Path, pooling: str) -> None:
    encoder = HuggingFaceEncoder(str(tiny_bert), pooling=pooling)  # type: ignore[arg-type]
    encoder.eval()
    short, long = encoder.featurize(
        [Example("1", "short one"), Example("2", "a much longer sentence than that")], max_length=32
    )
    alone = encoder(encoder.collate([short])).pooled
    padded = encoder(encoder.collate([short, long]))
    assert padded.pooled.shape == (2, 32)
    assert padded.hidden.shape[:2] == padded.mask.shape
    torch.testing.assert_close(padded.pooled[0], alone[0], atol=1e-5, rtol=1e-5)


def test_save_and_rebuild_from_archive_params_gives_the_same_outputs(tmp_path: Path, tiny_bert: Path) -> None:
    encoder = HuggingFaceEncoder(str(tiny_bert), pooling="mean")
    encoder.eval()
    with torch.no_grad():
        for parameter in encoder.parameters():
            parameter.add_(0.01)  # make it differ from the folder it came from
    encoder.save_pretrained(tmp_path / "enc")
    params = HuggingFaceEncoder.archive_params({"model": str(tiny_bert), "pooling": "mean"}, tmp_path / "enc")
    again = HuggingFaceEncoder(params["model"], pooling=params["pooling"])
    again.eval()
    inputs = encoder.collate(encoder.featurize([Example("1", "hello there")], max_length=16))
    torch.testing.assert_close(encoder(inputs).pooled, again(inputs).pooled)


def test_builds_from_config_by_registered_pretrained_name_or_path(
    registry: Registry, tiny_bert: Path, minilm_dir: Path
) -> None:
    by_name = build(registry, Encoder, {"type": "hf", "model": "all_minilm_l6_v2"}, path="encoder")
    assert isinstance(by_name, HuggingFaceEncoder)
    assert by_name.folder == minilm_dir
    assert by_name.output_dim == 384
    by_path = build(registry, Encoder, {"type": "hf", "model": str(tiny_bert)}, path="encoder")
    assert by_path.output_dim == 32


def test_a_folder_without_a_model_is_a_configuration_error(tmp_path: Path, registry: Registry) -> None:
    with pytest.raises(ConfigurationError, match="not a Hugging Face model folder") as info:
        HuggingFaceEncoder(str(tmp_path))
    assert info.value.path == "model"  # relative to the encoder; build() says where the encoder sits
    with pytest.raises(ConfigurationError, match="not a Hugging Face model folder") as info:
        build(registry, Encoder, {"type": "hf", "model": str(tmp_path)}, path="encoder")
    assert info.value.path == "encoder.model"
    assert "mtdnn registry list --kind pretrained" in str(info.value)


def test_pad_to_multiple_of_rounds_the_batch_width_and_changes_no_real_tokens_state(tiny_bert: Path) -> None:
    plain = HuggingFaceEncoder(str(tiny_bert)).eval()
    padded = HuggingFaceEncoder(str(tiny_bert), pad_to_multiple_of=8).eval()
    examples = [Example("1", "the cat sat on the mat"), Example("2", "a dog")]
    features = plain.featurize(examples, max_length=32)
    narrow, wide = plain.collate(features), padded.collate(features)
    assert narrow["input_ids"].shape == (2, 8) and wide["input_ids"].shape == (2, 8)  # 8 already
    features = plain.featurize([Example("1", "the cat sat on the mat again"), examples[1]], max_length=32)
    narrow, wide = plain.collate(features), padded.collate(features)
    assert narrow["input_ids"].shape == (2, 9) and wide["input_ids"].shape == (2, 16)
    assert wide["attention_mask"][:, 9:].sum() == 0
    assert (wide["input_ids"][:, 9:] == plain.tokenizer.pad_token_id).all()
    with torch.no_grad():
        a, b = plain(narrow), padded(wide)
    assert torch.allclose(a.hidden, b.hidden[:, :9], atol=1e-5)
    assert torch.allclose(a.pooled, b.pooled, atol=1e-5)


def test_pad_to_multiple_of_never_pads_past_the_position_limit(tiny_bert: Path) -> None:
    encoder = HuggingFaceEncoder(str(tiny_bert), pad_to_multiple_of=10_000)
    features = encoder.featurize([Example("1", "a cat")], max_length=16)
    assert encoder.max_positions is not None
    assert encoder.collate(features)["input_ids"].shape[1] == encoder.max_positions
    with pytest.raises(ConfigurationError, match="pad_to_multiple_of must be at least 1"):
        HuggingFaceEncoder(str(tiny_bert), pad_to_multiple_of=0)
