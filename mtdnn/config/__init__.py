"""Configs: evaluate jsonnet experiments and build objects from them through constructor type hints."""

from __future__ import annotations

from mtdnn.config.build import accepted_keys, build, describe_parameters, type_text
from mtdnn.config.jsonnet import evaluate_config, library_dir, parse_tla_pairs

__all__ = [
    "accepted_keys",
    "build",
    "describe_parameters",
    "evaluate_config",
    "library_dir",
    "parse_tla_pairs",
    "type_text",
]
