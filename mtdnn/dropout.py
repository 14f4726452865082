"""Dropout that draws its masks cheaply on the CPU (``trainer.fast_dropout``, on by default).

torch's CPU dropout draws one Bernoulli number per element, and in a Transformer's training step
that is the largest single cost: on a 2-core Xeon, MiniLM on RTE in bf16,
``aten::bernoulli_`` took a quarter of the step, most of it for the attention probabilities
(batch x heads x length x length per layer). Here one 64-bit random integer gives the masks of
four elements (16 bits each), and the mask is applied as a product with the scale-or-zero values
built from integer bits (a bool mask read as it is, by ``masked_fill`` or a mixed-type product, is
several times slower). ``bench/bench_dropout.py`` times one mask against torch's and the step.

The masks have the same distribution up to the resolution of 16 bits: an element is kept with
probability ``1 - p'`` and scaled by ``1 / (1 - p')``, where ``p'`` is ``p`` rounded to a multiple
of 1/65536 (0.1 becomes 0.1000061), so the expected output is still the input. The numbers come
from torch's default generator, so seeding, checkpointed random state, ``DropoutReplay`` and
activation checkpointing see them as they see torch's own dropout. Off the CPU (CUDA draws its
masks in the fused kernel) and in evaluation nothing changes.

:func:`use_fast_dropout` puts it into a built model: every ``nn.Dropout`` becomes
:class:`Dropout`, and Hugging Face models whose attention runs through ``sdpa`` switch to
``mtdnn_sdpa``, which is ``sdpa`` except for training on the CPU with attention dropout, where it
computes the attention probabilities, drops them with these masks and multiplies. It does each
step on the smallest tensor it can: the softmax scale on the queries, the padding as an additive
bias without the heads dimension, the dropout's scale on the output, and the softmax in the
scores' dtype (under bf16 autocast a float32 softmax would be saved for the backward pass and
copied back to bf16). ``bench/bench_training.py`` measures what that gives a training step.
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


_INTEGERS = {torch.float64: torch.int64, torch.float32: torch.int32, torch.bfloat16: torch.int16}
_INTEGERS[torch.float16] = torch.int16


def _kept(shape: torch.Size, p: float) -> tuple[torch.Tensor, float]:
    """A bool mask of ``shape`` (True: kept) and the scale of the kept elements."""
    size = shape.numel()
    # the full 64-bit range needs no modulo (torch.randint's upper bound is exclusive, so it needs one)
    bits = torch.empty((size + 3) // 4, dtype=torch.int64).random_(-(1 << 63), None)
    threshold, scale = _threshold(p)
    return bits.view(torch.int16)[:size].view(shape) >= threshold, scale


def _as_values(kept: torch.Tensor, value: float, dtype: torch.dtype) -> torch.Tensor:
    """``kept`` as ``value`` (True) and 0 (False) in ``dtype``: an integer product of ``value``'s bits
    (in bf16 half the time of converting the bool mask to the float type)."""
    integers = _INTEGERS[dtype]
    code = int(torch.tensor(value, dtype=dtype).view(integers).item())
    return (kept.to(integers) * code).view(dtype)


def _drop(tensor: torch.Tensor, kept: torch.Tensor, scale: float) -> torch.Tensor:
    """``tensor`` zeroed where not ``kept`` and scaled by ``scale``."""
    if tensor.dtype not in _INTEGERS:
        return tensor * kept * scale
    if tensor.dtype.itemsize >= 4:  # the scale in the tensor's own dtype is as exact as a product with it
        return tensor * _as_values(kept, scale, tensor.dtype)
    # in 16 bits the scale itself would round (1.1111 to 1.1094 in bf16): a bias, so scale after
    dropped = tensor * _as_values(kept, 1.0, tensor.dtype)
    return dropped.mul_(scale) if scale != 1.0 else dropped


class _FastDropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor, p: float, scaled: bool) -> torch.Tensor:
        kept, scale = _kept(tensor.shape, p)
        ctx.save_for_backward(kept)
        ctx.scale = scale if scaled else 1.0
        return _drop(tensor, kept, ctx.scale)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        (kept,) = ctx.saved_tensors
        return _drop(grad, kept, ctx.scale), None, None


def fast_dropout(tensor: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """``functional.dropout(tensor, p, training)``, with cheaper masks for a CPU tensor."""
    if not training or p == 0.0 or tensor.numel() == 0:
        return tensor
    if tensor.device.type != "cpu" or not tensor.is_floating_point() or p >= 1.0:
        return functional.dropout(tensor, p, training)
    dropped: torch.Tensor = _FastDropout.apply(tensor, p, True)  # type: ignore[no-untyped-call]
    return dropped


def _unscaled_dropout(tensor: torch.Tensor, p: float) -> tuple[torch.Tensor, float]:
    """:func:`fast_dropout` of a CPU training tensor without its scale, and the scale, for a caller
    that applies it to something smaller (the attention output rather than the probabilities)."""
    dropped: torch.Tensor = _FastDropout.apply(tensor, p, False)  # type: ignore[no-untyped-call]
    return dropped, _threshold(p)[1]


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
    # the softmax scale on the queries and the dropout's on the output: smaller than the scores
    scores = torch.matmul(query * scale, key.transpose(-1, -2))
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:  # an additive bias, smaller than the scores (no heads)
            bias = torch.zeros(attention_mask.shape, dtype=scores.dtype, device=scores.device)
            scores = scores + bias.masked_fill_(~attention_mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores + attention_mask[..., : key.shape[-2]]
    # in the scores' dtype (in bf16 the kernel computes in float32 and rounds once, as a float32
    # softmax rounded to bf16 would); a float32 copy would be saved for the backward pass
    probabilities = torch.softmax(scores, dim=-1).to(value.dtype)
    dropped, scale = _unscaled_dropout(probabilities, dropout)
    output = torch.matmul(dropped, value).transpose(1, 2).contiguous()
    return output.mul_(scale), None


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
