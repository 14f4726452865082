"""Fixtures that install the test plugins of ``tests/fixtures/plugins`` as distributions, without pip.

Each folder there holds a module and (except ``modules/``) its ``*.dist-info`` folder with ``METADATA``
and ``entry_points.txt``. Copying folders into a directory on ``sys.path`` is all an installed
distribution is to ``importlib.metadata.entry_points(group="mtdnn")``. ``sys.path``, the environment and
``sys.modules`` are restored by ``monkeypatch`` after each test.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plugins"

PLUGIN_MODULES = (
    "mtdnn_testplugin",
    "mtdnn_broken",
    "mtdnn_misspelled",
    "mtdnn_impostor",
    "mtdnn_localplugin",
    "mtdnn_clashplugin",
    "mtdnn_replaceplugin",
    "mtdnn_clashcommand",
    "mtdnn_raising",
    "mtdnn_wrongarg",
    "mtdnn_badjsonnet",
)
"""Every module under ``tests/fixtures/plugins``: none may stay in ``sys.modules`` after a test."""

PLUGIN_ENV = ("MTDNN_DISABLE_PLUGIN_AUTOLOAD", "MTDNN_TRACE_HOOKS", "MTDNN_STRICT_PLUGINS")

InstallPlugins = Callable[..., Path]


def forget_module_after_test(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make ``monkeypatch`` restore ``sys.modules[name]`` to its present state (usually: absent).

    ``monkeypatch.setitem`` records the present value (or its absence) and ``delitem`` then removes the
    placeholder, so undoing both in reverse order drops whatever the test imported under ``name``.
    """
    monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.delitem(sys.modules, name)


@pytest.fixture
def install_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InstallPlugins:
    """Return ``install(*folders)``, which copies fixture folders into a fresh site directory.

    The site directory is put first on ``sys.path`` for this test only; ``install`` returns it.
    The plugin environment variables are unset so that the tests see the defaults.
    """
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    for variable in PLUGIN_ENV:
        monkeypatch.delenv(variable, raising=False)
    for module in PLUGIN_MODULES:
        forget_module_after_test(monkeypatch, module)

    def install(*folders: str, modules: dict[str, str] | None = None, requires: str | None = None) -> Path:
        """Copy ``folders``; install each of ``modules`` (module -> distribution) as a plugin distribution."""
        for folder in folders:
            shutil.copytree(FIXTURES / folder, site, dirs_exist_ok=True)
        for module, distribution in (modules or {}).items():
            shutil.copy(FIXTURES / "modules" / f"{module}.py", site)
            info = site / f"{distribution.replace('-', '_')}-1.0.0.dist-info"
            info.mkdir()
            metadata = f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0.0\n"
            if requires is not None:
                metadata += f"Requires-Dist: {requires}\n"
            (info / "METADATA").write_text(metadata)
            (info / "entry_points.txt").write_text(f"[mtdnn]\n{module.removeprefix('mtdnn_')} = {module}\n")
            (info / "RECORD").write_text(f"{module}.py,,\n{info.name}/METADATA,,\n")  # as pip writes it
        importlib.invalidate_caches()
        return site

    return install


@pytest.fixture
def plugin_site(install_plugins: InstallPlugins) -> Path:
    """A site directory holding the installed ``mtdnn-testplugin`` 0.3.1 and the local plugin modules."""
    return install_plugins("testplugin", "modules")


RunPython = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def run_python(install_plugins: InstallPlugins) -> RunPython:
    """Return ``run(code, *args)``: ``python -c code *args`` in a fresh interpreter that sees the site.

    The child gets the site directory on ``PYTHONPATH`` and none of the plugin environment variables.
    """
    site = install_plugins()

    def run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = {name: value for name, value in os.environ.items() if name not in PLUGIN_ENV}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )

    return run
