"""``mtdnn plugins`` and ``mtdnn registry list``, and plugin commands, through the real CLI."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mtdnn.cli import make_cli, plugin_modules
from mtdnn.errors import MtdnnError
from mtdnn.heads import ClassificationHead
from mtdnn.hooks import get_plugin_manager

InstallPlugins = Callable[..., Path]
RunPython = Callable[..., "subprocess.CompletedProcess[str]"]

MAIN = "from mtdnn.cli import main; main()"


def _invoke(args: list[str], *, autoload: bool = True) -> Result:
    """Run ``mtdnn ARGS`` as ``main`` does, but with a fresh manager and in this process."""
    pm = get_plugin_manager(plugins=plugin_modules(args), autoload=autoload)
    return CliRunner().invoke(make_cli(pm), args, prog_name="mtdnn")


def test_plugins_command_prints_json_with_versions_hooks_and_failures(
    install_plugins: InstallPlugins,
) -> None:
    install_plugins("testplugin", "broken")

    result = _invoke(["plugins", "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    by_name = {plugin["name"]: plugin for plugin in report["plugins"]}
    assert by_name["testplugin"] == {
        "name": "testplugin",
        "source": "entry_point",
        "distribution": "mtdnn-testplugin",
        "version": "0.3.1",
        "hooks": ["mtdnn_jsonnet_paths", "mtdnn_register", "mtdnn_register_commands"],
    }
    assert by_name["mtdnn.builtin.components"]["source"] == "builtin"
    assert [failure["plugin"] for failure in report["failures"]] == ["mtdnn-broken"]
    assert "mtdnn_broken_dependency" in report["failures"][0]["error"]


def test_registry_list_shows_kind_name_class_and_docstring_summary(plugin_site: Path) -> None:
    result = _invoke(["registry", "list"], autoload=False)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    row = next(
        index
        for index, line in enumerate(lines)
        if re.fullmatch(r"head\s+classification\s+mtdnn\.heads\.classification\.ClassificationHead", line)
    )
    summary = inspect.cleandoc(ClassificationHead.__doc__ or "").splitlines()[0]
    assert lines[row + 1].strip() == summary
    assert lines[row + 1].startswith(" ")
    assert re.search(r"^loss\s+cross_entropy\s+\S+", result.stdout, re.MULTILINE)


def test_registry_list_aligns_columns_for_long_plugin_names(plugin_site: Path) -> None:
    result = _invoke(["registry", "list"])

    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if not line.startswith(" ")]
    class_columns = {line.index(line.split()[2]) for line in rows}
    assert len(class_columns) == 1
    assert re.search(
        r"^head\s+mean_pool_classifier  mtdnn_testplugin\.MeanPoolClassifierHead$",
        result.stdout,
        re.MULTILINE,
    )


def test_registry_list_kind_option_shows_only_that_kind(plugin_site: Path) -> None:
    result = _invoke(["registry", "list", "--kind", "head"])

    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert {row[0] for row in rows} == {"head"}
    assert {row[1] for row in rows} >= {"classification", "mean_pool_classifier"}


def test_registry_list_unknown_kind_is_a_usage_error_listing_the_kinds(plugin_site: Path) -> None:
    result = _invoke(["registry", "list", "--kind", "heads"], autoload=False)

    assert result.exit_code == 2
    assert "unknown kind 'heads'" in result.stderr
    assert "head, loss" in result.stderr
    assert result.stdout == ""


def test_registry_list_json_is_machine_readable(plugin_site: Path) -> None:
    result = _invoke(["registry", "list", "--kind", "head", "--json"])

    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["classification"] == {
        "kind": "head",
        "name": "classification",
        "class": "mtdnn.heads.classification.ClassificationHead",
        "summary": inspect.cleandoc(ClassificationHead.__doc__ or "").splitlines()[0],
    }
    assert rows["mean_pool_classifier"]["class"] == "mtdnn_testplugin.MeanPoolClassifierHead"
    assert rows["mean_pool_classifier"]["summary"] == (
        "Classifies each sequence from the masked mean of its token states."
    )


def test_registry_list_leaves_the_summary_of_an_undocumented_component_empty(plugin_site: Path) -> None:
    result = _invoke(["--plugin", "mtdnn_localplugin", "registry", "list", "--kind", "head", "--json"])

    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["undocumented"]["class"] == "mtdnn_localplugin.UndocumentedHead"
    assert rows["undocumented"]["summary"] == ""
    assert rows["first_token"]["summary"] == "Classifies each sequence from its first token's state."


def test_registry_list_reports_a_component_name_collision_as_an_error(plugin_site: Path) -> None:
    result = _invoke(["--plugin", "mtdnn_clashplugin", "registry", "list"], autoload=False)

    assert result.exit_code == 1
    assert "head 'classification' is taken by mtdnn.heads.classification.ClassificationHead" in result.stderr
    assert "cannot register mtdnn_clashplugin.OtherClassificationHead" in result.stderr


def test_plugin_hello_command_runs(plugin_site: Path) -> None:
    result = _invoke(["hello", "--name", "tests"])

    assert result.exit_code == 0, result.output
    assert result.stdout == "hello tests from mtdnn-testplugin\n"


def test_plugin_command_is_absent_without_the_plugin(plugin_site: Path) -> None:
    result = _invoke(["hello"], autoload=False)

    assert result.exit_code == 2
    assert "No such command 'hello'" in result.stderr


def test_plugin_command_named_like_a_builtin_fails_naming_both_commands(plugin_site: Path) -> None:
    pm = get_plugin_manager(plugins=["mtdnn_clashcommand"], autoload=False)

    with pytest.raises(MtdnnError) as caught:
        make_cli(pm)

    assert str(caught.value) == (
        "the command name 'train' is already taken by mtdnn.commands.train.train_command; "
        "cannot add mtdnn_clashcommand.other_train_command"
    )


def test_plugin_option_loads_a_local_module_for_registry_list(plugin_site: Path) -> None:
    result = _invoke(["--plugin", "mtdnn_localplugin", "registry", "list", "--kind", "head"], autoload=False)

    assert result.exit_code == 0, result.output
    assert re.search(r"^head\s+first_token\s+mtdnn_localplugin\.FirstTokenHead$", result.stdout, re.MULTILINE)


def test_plugin_modules_reads_both_spellings_of_the_plugin_option() -> None:
    argv = ["--plugin", "first", "train", "config.jsonnet", "--plugin=second", "-s", "run"]

    assert plugin_modules(argv) == ["first", "second"]


def test_main_with_plugin_option_loads_a_local_module(plugin_site: Path, run_python: RunPython) -> None:
    result = run_python(MAIN, "--plugin", "mtdnn_localplugin", "registry", "list", "--kind", "head")

    assert result.returncode == 0, result.stderr
    assert re.search(r"^head\s+first_token\s+mtdnn_localplugin\.FirstTokenHead$", result.stdout, re.MULTILINE)
    assert re.search(r"^head\s+mean_pool_classifier\s+", result.stdout, re.MULTILINE)


def test_main_warns_about_a_broken_plugin_and_runs_the_command(
    install_plugins: InstallPlugins, run_python: RunPython
) -> None:
    install_plugins("testplugin", "broken")

    result = run_python(MAIN, "plugins")

    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "mtdnn-broken" in line]
    assert len(warnings) == 1  # said once
    assert warnings[0].startswith("WARNING mtdnn.hooks.manager: plugin 'mtdnn-broken': failed to import")
    assert "it is left out, and everything else works (MTDNN_DISABLE_PLUGIN_AUTOLOAD=1" in warnings[0]
    assert "left out (1):\n  mtdnn-broken: failed to import" in result.stdout


def test_main_exits_with_an_error_when_a_plugin_command_takes_a_builtin_name(
    plugin_site: Path, run_python: RunPython
) -> None:
    result = run_python(MAIN, "--plugin", "mtdnn_clashcommand", "plugins")

    assert result.returncode == 1
    assert result.stderr.startswith("Error: the command name 'train' is already taken")
    assert "Traceback" not in result.stderr


def test_registry_show_prints_keys_types_defaults_and_meanings() -> None:
    result = _invoke(["registry", "show", "classification"], autoload=False)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "head 'classification': mtdnn.heads.classification.ClassificationHead"
    assert "  dropout: float = 0.1" in lines
    assert "      Dropout on the pooled vector before the classifier." in lines
    assert lines[-1] == "supplied at run time: input_dim, num_labels, labels"
    reader = _invoke(["registry", "show", "columns", "--kind", "reader"], autoload=False).stdout
    assert "  text: str | int (required)" in reader.splitlines()
    assert "  labels: list[str] | None = None" in reader.splitlines()  # a config key of a reader
    assert "supplied at run time" not in reader


def test_registry_show_suggests_a_name_for_a_typo() -> None:
    result = _invoke(["registry", "show", "clasification"], autoload=False)

    assert result.exit_code == 1
    assert "no component named 'clasification'; did you mean 'classification'?" in result.stderr
