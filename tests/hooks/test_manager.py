"""The plugin manager: built-ins, entry-point plugins, local modules, failures and collisions."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import torch

import mtdnn.jsonnet
from mtdnn.api.train import load_config
from mtdnn.config import build
from mtdnn.errors import ConfigurationError, PluginError
from mtdnn.heads import ClassificationHead, Head
from mtdnn.hooks import BUILTIN_PLUGINS, build_registry, get_plugin_manager, jsonnet_paths, plugin_report
from mtdnn.types import EncoderOutput, TaskBatch

InstallPlugins = Callable[..., Path]
RunPython = Callable[..., "subprocess.CompletedProcess[str]"]


def _entry(report: dict[str, object], name: str) -> dict[str, object]:
    plugins = report["plugins"]
    assert isinstance(plugins, list)
    matches = [plugin for plugin in plugins if plugin["name"] == name]
    assert len(matches) == 1, f"{name!r} not in {[plugin['name'] for plugin in plugins]}"
    return matches[0]  # type: ignore[no-any-return]


def _tiny_batch() -> tuple[EncoderOutput, TaskBatch]:
    torch.manual_seed(0)
    hidden = torch.randn(2, 4, 8)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    batch = TaskBatch(
        task="toy", inputs={"attention_mask": mask}, labels=torch.tensor([0, 2]), ids=("a", "b")
    )
    return EncoderOutput(hidden=hidden, mask=mask, pooled=hidden[:, 0]), batch


def test_builtin_packages_register_through_the_hook_with_source_builtin() -> None:
    pm = get_plugin_manager(autoload=False)

    report = plugin_report(pm)

    assert [p["name"] for p in report["plugins"]] == sorted(BUILTIN_PLUGINS)
    assert {p["source"] for p in report["plugins"]} == {"builtin"}
    assert _entry(report, "mtdnn.builtin.components")["hooks"] == ["mtdnn_register"]
    assert _entry(report, "mtdnn.commands")["hooks"] == ["mtdnn_register_commands"]
    assert report["failures"] == []
    assert build_registry(pm).resolve(Head, "classification") is ClassificationHead


def test_fixture_distribution_is_a_real_entry_point_of_group_mtdnn(plugin_site: Path) -> None:
    found = {ep.name: ep for ep in entry_points(group="mtdnn")}

    assert found["testplugin"].value == "mtdnn_testplugin"
    assert found["testplugin"].dist is not None
    assert found["testplugin"].dist.name == "mtdnn-testplugin"


def test_entry_point_plugin_is_loaded_with_distribution_version_and_hooks(plugin_site: Path) -> None:
    pm = get_plugin_manager()

    entry = _entry(plugin_report(pm), "testplugin")

    assert entry == {
        "name": "testplugin",
        "source": "entry_point",
        "distribution": "mtdnn-testplugin",
        "version": "0.3.1",
        "hooks": ["mtdnn_jsonnet_paths", "mtdnn_register", "mtdnn_register_commands"],
    }
    assert pm.get_plugin("testplugin") is sys.modules["mtdnn_testplugin"]
    assert json.loads(json.dumps(plugin_report(pm))) == plugin_report(pm)


def test_plugin_head_builds_from_config_and_runs_on_a_tiny_batch(plugin_site: Path) -> None:
    registry = build_registry(get_plugin_manager())

    head = build(
        registry, Head, {"type": "mean_pool_classifier", "scale": 2.0}, path="head", input_dim=8, num_labels=3
    )
    encoded, batch = _tiny_batch()
    output = head(encoded, batch)

    assert type(head).__name__ == "MeanPoolClassifierHead"
    assert registry.name_of(type(head)) == "mean_pool_classifier"
    assert head.scale == 2.0
    assert output.logits.shape == (2, 3)
    mean = torch.stack([encoded.hidden[0].mean(dim=0), encoded.hidden[1, :2].mean(dim=0)])
    torch.testing.assert_close(output.logits, 2.0 * head.classifier(mean))
    assert head.predict(output).shape == (2,)
    torch.testing.assert_close(head.probabilities(output).sum(dim=-1), torch.ones(2))


def test_plugin_head_ignores_padded_token_states(plugin_site: Path) -> None:
    registry = build_registry(get_plugin_manager())
    head = build(registry, Head, "mean_pool_classifier", path="head", input_dim=8, num_labels=3)
    encoded, batch = _tiny_batch()
    noisy = encoded.hidden.clone()
    noisy[1, 2:] = 1000.0

    before = head(encoded, batch).logits
    after = head(EncoderOutput(hidden=noisy, mask=encoded.mask, pooled=encoded.pooled), batch).logits

    torch.testing.assert_close(before, after)


def test_each_build_registry_call_returns_a_fresh_registry(plugin_site: Path) -> None:
    pm = get_plugin_manager()

    first, second = build_registry(pm), build_registry(pm)

    assert first is not second
    assert first.resolve(Head, "mean_pool_classifier") is second.resolve(Head, "mean_pool_classifier")


def test_plugin_head_is_unknown_to_a_manager_without_the_plugin(plugin_site: Path) -> None:
    registry = build_registry(get_plugin_manager(autoload=False))

    with pytest.raises(ConfigurationError, match="unknown head 'mean_pool_classifier'") as caught:
        build(registry, Head, {"type": "mean_pool_classifier"}, path="head", input_dim=8, num_labels=3)
    assert caught.value.path == "head.type"


def test_broken_plugin_is_reported_by_distribution_while_the_others_load(
    install_plugins: InstallPlugins, caplog: pytest.LogCaptureFixture
) -> None:
    install_plugins("testplugin", "broken")
    caplog.set_level(logging.WARNING, logger="mtdnn.hooks.manager")

    pm = get_plugin_manager()

    assert [failure.plugin for failure in pm.loaded.failures] == ["mtdnn-broken"]
    assert "mtdnn_broken_dependency" in pm.loaded.failures[0].message
    assert "broken" not in pm.loaded.infos
    assert "testplugin" in pm.loaded.infos
    assert plugin_report(pm)["failures"] == [
        {"plugin": "mtdnn-broken", "error": pm.loaded.failures[0].message}
    ]
    assert any("mtdnn-broken" in record.getMessage() for record in caplog.records)
    registry = build_registry(pm)
    assert registry.resolve(Head, "classification") is ClassificationHead
    assert registry.resolve(Head, "mean_pool_classifier").__module__ == "mtdnn_testplugin"


def test_broken_module_named_with_plugins_raises_instead_of_being_skipped(
    install_plugins: InstallPlugins,
) -> None:
    install_plugins("broken")

    with pytest.raises(PluginError, match="mtdnn_broken_dependency") as caught:
        get_plugin_manager(plugins=["mtdnn_broken"], autoload=False)
    assert caught.value.plugin == "mtdnn_broken"


def test_autoload_false_skips_entry_points(plugin_site: Path) -> None:
    pm = get_plugin_manager(autoload=False)

    assert "testplugin" not in pm.loaded.infos
    assert "mtdnn_testplugin" not in sys.modules


@pytest.mark.parametrize("value", ["1", "true"])
def test_disable_autoload_env_skips_entry_points(
    plugin_site: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("MTDNN_DISABLE_PLUGIN_AUTOLOAD", value)

    pm = get_plugin_manager()

    assert "testplugin" not in pm.loaded.infos
    assert "mtdnn_testplugin" not in sys.modules


def test_disable_autoload_env_set_to_zero_still_loads_entry_points(
    plugin_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MTDNN_DISABLE_PLUGIN_AUTOLOAD", "0")

    assert "testplugin" in get_plugin_manager().loaded.infos


def test_explicit_autoload_true_overrides_the_disable_env(
    plugin_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MTDNN_DISABLE_PLUGIN_AUTOLOAD", "1")

    assert "testplugin" in get_plugin_manager(autoload=True).loaded.infos


def test_plugins_argument_registers_a_local_module_with_source_command_line(plugin_site: Path) -> None:
    pm = get_plugin_manager(plugins=["mtdnn_localplugin"], autoload=False)

    entry = _entry(plugin_report(pm), "mtdnn_localplugin")

    assert entry["source"] == "command_line"
    assert entry["distribution"] is None
    assert entry["hooks"] == ["mtdnn_register"]
    assert build_registry(pm).resolve(Head, "first_token").__module__ == "mtdnn_localplugin"


def test_unimportable_plugin_module_raises_plugin_error_naming_it(plugin_site: Path) -> None:
    with pytest.raises(PluginError, match="cannot import module") as caught:
        get_plugin_manager(plugins=["mtdnn_no_such_module"], autoload=False)

    assert caught.value.plugin == "mtdnn_no_such_module"
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)


def test_misspelled_hookimpl_of_an_installed_plugin_is_reported_naming_hook_and_distribution(
    install_plugins: InstallPlugins,
) -> None:
    install_plugins("misspelled")

    pm = get_plugin_manager()

    [failure] = pm.loaded.failures
    assert failure.plugin == "mtdnn-misspelled"
    assert "unknown hook 'mtdnn_regster' (did you mean 'mtdnn_register'?)" in failure.message
    assert "misspelled" not in pm.loaded.infos and not pm.has_plugin("misspelled")


def test_misspelled_hookimpl_in_a_local_module_raises_naming_the_module(
    install_plugins: InstallPlugins,
) -> None:
    install_plugins("misspelled")

    with pytest.raises(PluginError, match="unknown hook 'mtdnn_regster'") as caught:
        get_plugin_manager(plugins=["mtdnn_misspelled"], autoload=False)

    assert caught.value.plugin == "mtdnn_misspelled"


def test_a_second_plugin_of_the_same_name_is_left_out(install_plugins: InstallPlugins) -> None:
    install_plugins("testplugin", "impostor")

    pm = get_plugin_manager()

    [failure] = pm.loaded.failures
    assert "the plugin name 'testplugin' is taken" in failure.message
    assert "mtdnn-testplugin" in str(failure) and "mtdnn-impostor" in str(failure)
    loaded = pm.loaded.infos["testplugin"].distribution  # the first found keeps the name
    assert {loaded, failure.plugin} == {"mtdnn-testplugin", "mtdnn-impostor"}


def test_local_module_given_twice_raises(plugin_site: Path) -> None:
    with pytest.raises(PluginError, match="the plugin name 'mtdnn_localplugin' is taken"):
        get_plugin_manager(plugins=["mtdnn_localplugin", "mtdnn_localplugin"], autoload=False)


def test_installed_plugin_also_named_with_plugins_raises_naming_the_loaded_plugin(plugin_site: Path) -> None:
    with pytest.raises(PluginError, match="already loaded as plugin 'testplugin'") as caught:
        get_plugin_manager(plugins=["mtdnn_testplugin"])

    assert caught.value.plugin == "mtdnn_testplugin"


def test_plugin_taking_a_builtin_component_name_fails_naming_both_classes(plugin_site: Path) -> None:
    pm = get_plugin_manager(plugins=["mtdnn_clashplugin"], autoload=False)

    with pytest.raises(ConfigurationError) as caught:
        build_registry(pm)

    assert caught.value.message == (  # a module named with --plugin fails loudly
        "head 'classification' is taken by mtdnn.heads.classification.ClassificationHead (from mtdnn); "
        "cannot register mtdnn_clashplugin.OtherClassificationHead under it"
    )
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("choose another name, e.g. 'clashplugin_classification'")


def test_plugin_overriding_a_builtin_component_with_replace_true_wins_and_is_logged(
    plugin_site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pm = get_plugin_manager(plugins=["mtdnn_replaceplugin"], autoload=False)
    caplog.set_level(logging.WARNING, logger="mtdnn.registry")

    registry = build_registry(pm)

    assert registry.resolve(Head, "classification").__name__ == "ReplacementClassificationHead"
    assert any(
        "mtdnn.heads.classification.ClassificationHead -> mtdnn_replaceplugin.ReplacementClassificationHead"
        in record.getMessage()
        for record in caplog.records
    )


def test_jsonnet_paths_returns_the_plugin_directory(plugin_site: Path) -> None:
    builtin = Path(mtdnn.jsonnet.__file__).resolve().parent
    others = [ep for ep in entry_points(group="mtdnn") if not ep.value.startswith("mtdnn_test")]
    installed = jsonnet_paths(get_plugin_manager(entry_point_list=others))  # e.g. mtdnn-bio
    paths = jsonnet_paths(get_plugin_manager())

    added = [path for path in paths if path not in installed]
    assert added == [plugin_site.resolve() / "mtdnn_testplugin_jsonnet"]
    assert paths[0] == builtin
    assert (plugin_site.resolve() / "mtdnn_testplugin_jsonnet" / "testplugin.libsonnet").is_file()
    assert jsonnet_paths(get_plugin_manager(autoload=False)) == [builtin]
    assert (builtin / "glue.libsonnet").is_file()


def test_config_importing_the_plugin_libsonnet_evaluates_through_load_config(
    plugin_site: Path, tmp_path: Path
) -> None:
    config_file = tmp_path / "experiment.jsonnet"
    config_file.write_text(
        "local testplugin = import 'testplugin.libsonnet';\n{ head: testplugin.meanPoolHead(scale=2.0) }\n"
    )
    pm = get_plugin_manager()

    config = load_config(config_file, pm)

    assert config == {"head": {"type": "mean_pool_classifier", "scale": 2.0}}
    head = build(build_registry(pm), Head, config["head"], path="head", input_dim=8, num_labels=3)
    assert head.scale == 2.0


def test_config_importing_the_plugin_libsonnet_fails_without_the_plugin(
    plugin_site: Path, tmp_path: Path
) -> None:
    config_file = tmp_path / "experiment.jsonnet"
    config_file.write_text(
        "local testplugin = import 'testplugin.libsonnet';\n{ head: testplugin.meanPoolHead() }\n"
    )

    with pytest.raises(ConfigurationError, match=r"couldn't open import \"testplugin\.libsonnet\""):
        load_config(config_file, get_plugin_manager(autoload=False))


def test_trace_hooks_env_logs_hook_calls(
    plugin_site: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MTDNN_TRACE_HOOKS", "1")
    caplog.set_level(logging.DEBUG, logger="mtdnn.hooks.manager")

    build_registry(get_plugin_manager())

    messages = [record.getMessage() for record in caplog.records if record.name == "mtdnn.hooks.manager"]
    assert any(message.lstrip().startswith("mtdnn_register [hook]") for message in messages)
    assert any("finish mtdnn_register -->" in message for message in messages)
    assert not any(message.endswith("\n") for message in messages)


def test_hook_calls_are_not_logged_without_the_trace_env(
    plugin_site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="mtdnn.hooks.manager")

    build_registry(get_plugin_manager())

    assert not any("[hook]" in record.getMessage() for record in caplog.records)


def test_importing_mtdnn_and_its_cli_loads_no_plugin_module(plugin_site: Path, run_python: RunPython) -> None:
    code = (
        "import json, sys\n"
        "import mtdnn, mtdnn.cli, mtdnn.hooks\n"
        "after_import = 'mtdnn_testplugin' in sys.modules\n"
        "mtdnn.hooks.get_plugin_manager()\n"
        "print(json.dumps([after_import, 'mtdnn_testplugin' in sys.modules]))\n"
    )

    result = run_python(code)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [False, True]
