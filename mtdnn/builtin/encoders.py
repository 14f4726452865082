"""The hook that registers the built-in encoders and pretrained model locations.

``mtdnn.encoders`` (and torch with it) is imported only when the hook runs, so commands that build no
registry (``mtdnn --help``) start fast.
"""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.registry import Registry


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in encoders and pretrained model locations."""
    from mtdnn.encoders import AllMiniLmL6V2, Encoder, HuggingFaceEncoder, LstmEncoder, PretrainedModel

    registry.add(Encoder, "hf", HuggingFaceEncoder)
    registry.add(Encoder, "lstm", LstmEncoder)
    registry.add(PretrainedModel, "all_minilm_l6_v2", AllMiniLmL6V2)
