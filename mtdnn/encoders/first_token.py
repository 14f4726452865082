"""The last Transformer layer computed for the first token only, when nothing reads the others.

A head that reads only the pooled vector of a ``cls`` (or ``pooler``) encoder uses one state of
the last layer per sequence: the first token's. That state needs the keys and values of every
token of the layer below, but not the others' queries, attention outputs or feed-forward
blocks, which are most of the layer's work. :func:`first_token_only` runs the model's own code
for every other part and swaps its last layer, for one call, for a module that computes just
that state from the same weights, with the same masks, position bias, attention function and
dropout modules. The result is the same function (up to the order of floating-point sums); the
last hidden state it returns has one position per sequence.

Two layouts are recognised: BERT's (``attention.self.{query,key,value}``, ``attention.output``,
``intermediate``, ``output``: BERT, RoBERTa, ELECTRA and models built like them, such as
all-MiniLM-L6-v2) and MPNet's (``attention.attn.{q,k,v,o}`` with a relative position bias:
all-mpnet-base-v2). For any other model :func:`last_layer` returns ``None`` and it runs whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import torch
from torch import nn

__all__ = ["first_token_only", "last_layer"]

Layout = Literal["bert", "mpnet"]

_PROJECTIONS: dict[Layout, tuple[str, tuple[str, ...]]] = {
    "bert": ("self", ("query", "key", "value")),
    "mpnet": ("attn", ("q", "k", "v", "o")),
}


def last_layer(model: nn.Module) -> tuple[nn.ModuleList, Layout] | None:
    """The list whose last item is ``model``'s last Transformer layer, and that layer's layout.

    ``None`` for a decoder, cross-attention, a chunked feed-forward block or an unknown layout.
    """
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    config = getattr(model, "config", None)
    if not isinstance(layers, nn.ModuleList) or len(layers) == 0 or config is None:
        return None
    if getattr(config, "is_decoder", False) or getattr(config, "add_cross_attention", False):
        return None
    if getattr(config, "chunk_size_feed_forward", 0):
        return None
    layer = layers[-1]
    if not all(isinstance(getattr(layer, name, None), nn.Module) for name in ("intermediate", "output")):
        return None
    attention = getattr(layer, "attention", None)
    for layout, (name, projections) in _PROJECTIONS.items():
        inner = getattr(attention, name, None)
        if not all(isinstance(getattr(inner, part, None), nn.Linear) for part in projections):
            continue
        if not isinstance(getattr(inner, "attention_head_size", None), int):
            continue
        needed = ("output",) if layout == "bert" else ("LayerNorm", "dropout")
        if not all(isinstance(getattr(attention, part, None), nn.Module) for part in needed):
            continue
        # BERT's attention runs through the model's attention function, which needs these
        if layout == "bert" and not all(hasattr(inner, name) for name in ("config", "scaling", "dropout")):
            continue
        return layers, layout
    return None


def _heads(
    attention: Any, names: tuple[str, str, str], hidden: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The first token's queries and every token's keys and values, ``[B, heads, T or 1, size]``."""
    batch, length, _ = hidden.shape
    size = attention.attention_head_size
    query, key, value = (getattr(attention, name) for name in names)
    return (
        query(hidden[:, :1]).view(batch, 1, -1, size).transpose(1, 2),
        key(hidden).view(batch, length, -1, size).transpose(1, 2),
        value(hidden).view(batch, length, -1, size).transpose(1, 2),
    )


def _first_row(bias: torch.Tensor | None) -> torch.Tensor | None:
    """The first query's row of a ``[B, heads or 1, T, T]`` mask or bias (others pass as they are)."""
    if bias is not None and bias.dim() == 4 and bias.size(-2) > 1:
        return bias[:, :, :1]
    return bias


class _FirstToken(nn.Module):
    """Holds the layer whose output at the first position a subclass computes."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.inner = layer


class _BertFirstToken(_FirstToken):
    """A BERT-layout layer's output at the first position only, from its own submodules."""

    def forward(
        self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None, *_: Any, **__: Any
    ) -> torch.Tensor:
        from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
        from transformers.models.bert.modeling_bert import eager_attention_forward

        layer: Any = self.inner  # laid out as BERT's (checked by last_layer)
        attention = layer.attention.self
        query, key, value = _heads(attention, ("query", "key", "value"), hidden_states)
        implementation = attention.config._attn_implementation
        function = ALL_ATTENTION_FUNCTIONS.get_interface(implementation, eager_attention_forward)
        output, _ = function(
            attention,
            query,
            key,
            value,
            _first_row(attention_mask),
            dropout=attention.dropout.p if attention.training else 0.0,
            scaling=attention.scaling,
        )
        first = hidden_states[:, :1]
        attended = layer.attention.output(output.reshape(*first.shape[:2], -1).contiguous(), first)
        result: torch.Tensor = layer.output(layer.intermediate(attended), attended)
        return result


class _MPNetFirstToken(_FirstToken):
    """An MPNet layer's output at the first position only (a tuple, as MPNet's layers return)."""

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_bias: torch.Tensor | None = None,
        *_: Any,
        **__: Any,
    ) -> tuple[torch.Tensor]:
        layer: Any = self.inner  # laid out as MPNet's (checked by last_layer)
        attention = layer.attention.attn
        query, key, value = _heads(attention, ("q", "k", "v"), hidden_states)
        scores = torch.matmul(query, key.transpose(-1, -2)) / attention.attention_head_size**0.5
        for bias in (_first_row(position_bias), _first_row(attention_mask)):
            if bias is not None:
                scores = scores + bias
        probabilities = attention.dropout(torch.softmax(scores, dim=-1))
        first = hidden_states[:, :1]
        context = torch.matmul(probabilities, value).transpose(1, 2).reshape(*first.shape[:2], -1)
        attended = layer.attention.LayerNorm(layer.attention.dropout(attention.o(context)) + first)
        return (layer.output(layer.intermediate(attended), attended),)


@contextmanager
def first_token_only(model: nn.Module) -> Iterator[None]:
    """Within the block, ``model``'s last layer computes the first position only.

    Where :func:`last_layer` does not recognise the layout the model runs whole. The layer is
    put back on leaving the block, also after an error; parameters, state dict and hooks are
    untouched.
    """
    found = last_layer(model)
    if found is None:
        yield
        return
    layers, layout = found
    original = layers[-1]
    layers[-1] = _BertFirstToken(original) if layout == "bert" else _MPNetFirstToken(original)
    try:
        yield
    finally:
        layers[-1] = original
