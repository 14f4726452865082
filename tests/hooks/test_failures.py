"""One policy for every way an installed plugin fails: reported, left out, the core keeps working."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from mtdnn.cli import make_cli
from mtdnn.errors import MtdnnError
from mtdnn.heads import ClassificationHead, Head
from mtdnn.hooks import build_registry, get_plugin_manager, jsonnet_paths, plugin_report
from mtdnn.hooks.manager import MtdnnPluginManager
from mtdnn.registry import Registry

InstallPlugins = Callable[..., Path]
RunPython = Callable[..., "subprocess.CompletedProcess[str]"]
MAIN = "import sys; from mtdnn.cli import main; sys.argv = ['mtdnn', *sys.argv[1:]]; main()"

# each failing plugin: fixture folders to copy, modules of modules/ to install as distributions,
# its distribution, and what the report says
FAILURES: list[tuple[tuple[str, ...], dict[str, str], str, str]] = [
    (("broken",), {}, "mtdnn-broken", "failed to import 'mtdnn_broken'"),
    (("misspelled",), {}, "mtdnn-misspelled", "hook 'mtdnn_regster' (did you mean 'mtdnn_register'?)"),
    ((), {"mtdnn_wrongarg": "mtdnn-wrongarg"}, "mtdnn-wrongarg", "reg"),
    ((), {"mtdnn_raising": "mtdnn-raising"}, "mtdnn-raising", "RuntimeError: the plugin's own bug"),
    ((), {"mtdnn_clashplugin": "mtdnn-clashplugin"}, "mtdnn-clashplugin", "head 'classification' is taken"),
    ((), {"mtdnn_clashcommand": "mtdnn-clashcommand"}, "mtdnn-clashcommand", "'train' is already taken"),
    ((), {"mtdnn_badjsonnet": "mtdnn-badjsonnet"}, "mtdnn-badjsonnet", "is not a directory"),
]
IDS = [distribution for _, _, distribution, _ in FAILURES]


def _use_everything() -> tuple[MtdnnPluginManager, click.Group, Registry]:
    """What commands do with the plugins: the CLI, the registry and the jsonnet path."""
    pm = get_plugin_manager()
    cli = make_cli(pm)
    registry = build_registry(pm)
    jsonnet_paths(pm)
    return pm, cli, registry


@pytest.mark.parametrize(("folders", "modules", "distribution", "reason"), FAILURES, ids=IDS)
def test_a_failing_installed_plugin_is_left_out_and_reported(
    install_plugins: InstallPlugins,
    caplog: pytest.LogCaptureFixture,
    folders: tuple[str, ...],
    modules: dict[str, str],
    distribution: str,
    reason: str,
) -> None:
    install_plugins("testplugin", *folders, modules=modules)
    caplog.set_level(logging.WARNING, logger="mtdnn.hooks.manager")

    pm, cli, registry = _use_everything()

    [failure] = pm.loaded.failures
    assert failure.plugin == distribution and reason in failure.message
    assert plugin_report(pm)["failures"] == [{"plugin": distribution, "error": failure.message}]
    assert registry.resolve(Head, "classification") is ClassificationHead
    assert registry.resolve(Head, "mean_pool_classifier").__module__ == "mtdnn_testplugin"
    assert "halfway" not in registry.names(Head)  # a failed hook's additions are undone
    train = cli.commands["train"].callback
    assert train is not None and train.__module__ == "mtdnn.commands.train"
    assert "hello" in cli.commands  # the healthy plugin's command
    warnings = [r.getMessage() for r in caplog.records if distribution in r.getMessage()]
    assert len(warnings) == 1 and "MTDNN_DISABLE_PLUGIN_AUTOLOAD=1" in warnings[0]
    assert "MTDNN_STRICT_PLUGINS=1 makes this an error" in warnings[0]


@pytest.mark.parametrize(("folders", "modules", "distribution", "reason"), FAILURES, ids=IDS)
def test_strict_mode_makes_each_failure_an_error(
    install_plugins: InstallPlugins,
    monkeypatch: pytest.MonkeyPatch,
    folders: tuple[str, ...],
    modules: dict[str, str],
    distribution: str,
    reason: str,
) -> None:
    install_plugins(*folders, modules=modules)
    monkeypatch.setenv("MTDNN_STRICT_PLUGINS", "1")

    with pytest.raises((MtdnnError, RuntimeError)):
        _use_everything()


def test_help_version_and_plugins_answer_with_every_broken_plugin_installed(
    install_plugins: InstallPlugins, run_python: RunPython
) -> None:
    modules = {module: dist for _, each, _, _ in FAILURES for module, dist in each.items()}
    install_plugins("testplugin", "broken", "misspelled", modules=modules)

    heads = ["registry", "list", "--kind", "head"]
    for arguments in (["--help"], ["--version"], ["plugins"], ["plugins", "--json"], heads):
        result = run_python(MAIN, *arguments)
        assert result.returncode == 0, (arguments, result.stderr)
    report = json.loads(run_python(MAIN, "plugins", "--json").stdout)
    assert sorted(failure["plugin"] for failure in report["failures"]) == sorted(IDS)
    assert "mean_pool_classifier" in run_python(MAIN, *heads).stdout
    table = run_python(MAIN, "plugins").stdout
    assert "left out (7):" in table and "mtdnn-testplugin" in table


def test_a_plugin_made_for_another_mtdnn_is_reported_and_not_imported(
    install_plugins: InstallPlugins,
) -> None:
    install_plugins(modules={"mtdnn_localplugin": "mtdnn-old"}, requires="mtdnn<0.1")

    pm = get_plugin_manager()

    [failure] = pm.loaded.failures
    assert failure.plugin == "mtdnn-old"
    assert "works with mtdnn<0.1, and this is mtdnn 0.1.0" in failure.message
    assert "mtdnn_localplugin" not in sys.modules


def test_a_plugin_declaring_this_mtdnn_loads(install_plugins: InstallPlugins) -> None:
    install_plugins(modules={"mtdnn_localplugin": "mtdnn-fresh"}, requires="mtdnn>=0.1,<1")

    pm = get_plugin_manager()

    assert not pm.loaded.failures and build_registry(pm).resolve(Head, "first_token")


def test_a_name_clash_names_both_distributions_and_suggests_a_name(install_plugins: InstallPlugins) -> None:
    install_plugins(modules={"mtdnn_clashplugin": "mtdnn-clashplugin"})

    pm = get_plugin_manager()
    build_registry(pm)

    [failure] = pm.loaded.failures
    assert "mtdnn.heads.classification.ClassificationHead (from mtdnn)" in failure.message
    assert "mtdnn_clashplugin.OtherClassificationHead (from mtdnn-clashplugin)" in failure.message
    assert "choose another name, e.g. 'clashplugin_classification'" in failure.message
