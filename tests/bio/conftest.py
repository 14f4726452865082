"""Fixtures of the mtdnn-bio tests."""

from __future__ import annotations

import pytest

from mtdnn.hooks import build_registry, get_plugin_manager
from mtdnn.registry import Registry


@pytest.fixture
def bio_registry() -> Registry:
    """The built-in components plus mtdnn-bio's (loaded by module, without other installed plugins)."""
    return build_registry(get_plugin_manager(autoload=False, plugins=["mtdnn_bio.plugin"]))
