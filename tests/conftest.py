"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


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
