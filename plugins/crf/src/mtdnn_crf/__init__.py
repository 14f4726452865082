"""A linear-chain CRF tagging head for mtdnn: IOB2-constrained transitions, Viterbi decoding."""

from __future__ import annotations

__version__ = "0.1.0"
