"""Text encoders: the shared bottom of a multi-task model."""

from __future__ import annotations

from mtdnn.encoders.base import Encoder
from mtdnn.encoders.hf import HuggingFaceEncoder
from mtdnn.encoders.lstm import LstmEncoder
from mtdnn.encoders.pretrained import AllMiniLmL6V2, PretrainedModel
from mtdnn.hooks.markers import hookimpl
from mtdnn.registry import Registry

__all__ = ["AllMiniLmL6V2", "Encoder", "HuggingFaceEncoder", "LstmEncoder", "PretrainedModel"]


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in encoders and pretrained model locations."""
    registry.add(Encoder, "hf", HuggingFaceEncoder)
    registry.add(Encoder, "lstm", LstmEncoder)
    registry.add(PretrainedModel, "all_minilm_l6_v2", AllMiniLmL6V2)
