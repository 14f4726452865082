"""Dropout that draws its masks cheaply on the CPU (``trainer.fast_dropout``, on by default).

torch's CPU dropout draws one Bernoulli number per element, and in a Transformer's training step
that is the largest single cost: on a 2-core Xeon, MiniLM on RTE in bf16,
``aten::bernoulli_`` took a quarter of the step, most of it for the attention probabilities
(batch x heads x length x length per layer). Here one 64-bit random integer gives the masks of
four elements (16 bits each): 12.7 against 45.2 ms for 32 x 12 x 128 x 128 elements on that
Xeon (``bench/bench_dropout.py``).

The masks have the same distribution up to the resolution of 16 bits: an element is kept with
probability ``1 - p'`` and scaled by ``1 / (1 - p')``, where ``p'`` is ``p`` rounded to a multiple
of 1/65536 (0.1 becomes 0.1000061), so the expected output is still the input. The numbers come
from torch's default generator, so seeding, checkpointed random state, ``DropoutReplay`` and
activation checkpointing see them as they see torch's own dropout. Off the CPU (CUDA draws its
masks in the fused kernel) and in evaluation nothing changes.

:func:`use_fast_dropout` puts it into a built model: every ``nn.Dropout`` becomes
:class:`Dropout`, and Hugging Face models whose attention runs through ``sdpa`` switch to
``mtdnn_sdpa``, which is ``sdpa`` except for training on the CPU with attention dropout, where it
computes the attention probabilities, drops them with these masks and multiplies.
"""

from __future__ import annotations

import sys
from typing import Any

import torch
from torch import nn
from torch.nn import functional

__all__ = ["ATTENTION", "Dropout", "fast_dropout", "use_fast_dropout"]

ATTENTION = "mtdnn_sdpa"
"""The name of the attention function registered with transformers' ``AttentionInterface``."""

_LEVELS = 1 << 16


def _threshold(p: float) -> tuple[int, float]:
    """The int16 value below which an element is dropped, and the scale of the kept ones."""
    dropped = round(p * _LEVELS)
    return -(_LEVELS // 2) + dropped, _LEVELS / (_LEVELS - dropped)


class _FastDropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor, p: float) -> torch.Tensor:
        size = tensor.numel()
        bits = torch.randint(-(1 << 63), (1 << 63) - 1, ((size + 3) // 4,), dtype=torch.int64)
        threshold, scale = _threshold(p)
        dropped = bits.view(torch.int16)[:size].view(tensor.shape) < threshold
        ctx.save_for_backward(dropped)
        ctx.scale = scale
        # scale, then zero in place: reads the bool mask as it is (a product with it would first
        # convert it to the tensor's dtype, which took twice as long)
        return (tensor * scale).masked_fill_(dropped, 0.0)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (dropped,) = ctx.saved_tensors
        return (grad * ctx.scale).masked_fill_(dropped, 0.0), None


def fast_dropout(tensor: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """``functional.dropout(tensor, p, training)``, with cheaper masks for a CPU tensor."""
    if not training or p == 0.0 or tensor.numel() == 0:
        return tensor
    if tensor.device.type != "cpu" or not tensor.is_floating_point() or p >= 1.0:
        return functional.dropout(tensor, p, training)
    dropped: torch.Tensor = _FastDropout.apply(tensor, p)  # type: ignore[no-untyped-call]
    return dropped


class Dropout(nn.Dropout):
    """``nn.Dropout`` with :func:`fast_dropout`'s masks (never in place)."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return fast_dropout(input, self.p, self.training)


def _attention(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """transformers' ``sdpa`` attention, with :func:`fast_dropout` on the probabilities in CPU training."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    plain = (
        dropout == 0.0
        or query.device.type != "cpu"
        or is_causal
        or getattr(module, "num_key_value_groups", 1) > 1
        or any(kwargs.get(name) is not None for name in ("position_bias", "softcap", "sliding_window"))
    )
    if plain:
        options = {"dropout": dropout, "scaling": scaling, "is_causal": is_causal, **kwargs}
        return sdpa_attention_forward(module, query, key, value, attention_mask, **options)
    scale = query.shape[-1] ** -0.5 if scaling is None else scaling
    scores = torch.matmul(query, key.transpose(-1, -2)) * scale
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attention_mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores + attention_mask[..., : key.shape[-2]]
    probabilities = torch.softmax(scores, dim=-1, dtype=torch.float32).to(value.dtype)
    output = torch.matmul(fast_dropout(probabilities, dropout), value)
    return output.transpose(1, 2).contiguous(), None


def _use_fast_attention(model: nn.Module) -> int:
    """Switch the ``sdpa`` Hugging Face models inside ``model`` to ``mtdnn_sdpa``; return how many."""
    transformers = sys.modules.get("transformers")
    if transformers is None:  # no Hugging Face model can be inside
        return 0
    from transformers import AttentionInterface, PreTrainedModel
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, AttentionMaskInterface

    AttentionInterface.register(ATTENTION, _attention)
    # the masks sdpa gets; without this, transformers would pass no mask at all for the new name
    AttentionMaskInterface.register(ATTENTION, ALL_MASK_ATTENTION_FUNCTIONS["sdpa"])
    switched = 0
    for part in model.modules():
        if isinstance(part, PreTrainedModel) and getattr(part.config, "_attn_implementation", None) == "sdpa":
            part.set_attn_implementation(ATTENTION)
            switched += 1
    return switched


def use_fast_dropout(model: nn.Module) -> int:
    """Give every ``nn.Dropout`` in ``model`` (and its ``sdpa`` attention) :func:`fast_dropout`'s masks.

    Changes ``model`` in place; its parameters and state dict are untouched. Returns how many
    dropout layers were replaced.
    """
    replaced = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Dropout:
                setattr(parent, name, Dropout(child.p))
                replaced += 1
    _use_fast_attention(model)
    return replaced
