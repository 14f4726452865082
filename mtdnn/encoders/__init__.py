"""Text encoders: the shared bottom of a multi-task model."""

from __future__ import annotations

from mtdnn.encoders.base import Encoder
from mtdnn.encoders.hf import HuggingFaceEncoder
from mtdnn.encoders.lstm import LstmEncoder
from mtdnn.encoders.pretrained import AllMiniLmL6V2, AllMpnetBaseV2, PretrainedModel

__all__ = [
    "AllMiniLmL6V2",
    "AllMpnetBaseV2",
    "Encoder",
    "HuggingFaceEncoder",
    "LstmEncoder",
    "PretrainedModel",
]
