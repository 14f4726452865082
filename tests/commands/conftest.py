"""The plugin fixtures of ``tests/hooks/conftest.py`` (installed test distributions), shared here.

A conftest's fixtures reach only its own folder, and ``tests/conftest.py`` belongs to everyone, so this
file loads the hooks conftest by path and re-exports its fixtures.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_HOOKS_CONFTEST = Path(__file__).resolve().parents[1] / "hooks" / "conftest.py"
_spec = importlib.util.spec_from_file_location("mtdnn_tests_hooks_conftest", _HOOKS_CONFTEST)
assert _spec is not None and _spec.loader is not None
_hooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_hooks)

install_plugins = _hooks.install_plugins
plugin_site = _hooks.plugin_site
run_python = _hooks.run_python
