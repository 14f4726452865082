"""The README's promises hold: its test command is what CI runs, its config example builds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mtdnn.api import dry_run
from mtdnn.errors import ConfigurationError
from mtdnn.experiment import build_experiment
from mtdnn.registry import Registry
from tests.conftest import shipped_config


def _bash_blocks(readme: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", readme, re.S)


def test_ci_runs_exactly_the_readme_test_command(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text()
    setup = [block.strip() for block in _bash_blocks(readme)[:2]]
    assert (
        setup[0].startswith("pip install torch==2.13.0")
        and "mtdnn train configs/quickstart.jsonnet" in setup[0]
    )
    plugins = sorted(path.parent.name for path in (repo_root / "plugins").glob("*/pyproject.toml"))
    editable = "".join(f" -e ./plugins/{name}" for name in plugins)
    install = 'pip install -e ".[test]" -e ./bio' + editable + " && "
    assert setup[1].startswith("pip install torch==2.13.0 && " + install), "every plugin is installed"
    test_command = setup[1].split(install, 1)[1]
    ci = (repo_root / ".ci" / "run").read_text()
    assert "pip install --quiet torch==2.13.0" in ci
    assert install.removesuffix(" && ").replace("pip install", "pip install --quiet") in ci
    assert ci.rstrip().splitlines()[-1] == test_command


def test_the_readme_config_example_builds_and_runs_a_batch(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (repo_root / "README.md").read_text()
    [example] = [block for block in re.findall(r"```jsonnet\n(.*?)```", readme, re.S) if "function(" in block]
    path = tmp_path / "example.jsonnet"
    path.write_text(example)
    monkeypatch.chdir(repo_root)  # the example's default data_root is relative to the checkout
    config = shipped_config(path)
    config["encoder"]["model"] = str(tiny_bert)  # the same layout, smaller weights
    report = dry_run(config, registry)
    assert set(report.tasks) == {"sst2", "rte"}


def test_the_readme_error_example_is_what_mtdnn_says(
    repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    readme = (repo_root / "README.md").read_text()
    shown = re.search(r"Error: (tasks\.sst2\.head\.type: .*?)\n```", readme, re.S)
    assert shown is not None
    config = {
        "encoder": {"type": "hf", "model": str(tiny_bert)},
        "tasks": {
            "sst2": {
                "reader": {"type": "glue", "task": "sst2"},
                "head": {"type": "clasification"},
                "loss": {"type": "cross_entropy"},
                "metrics": [{"type": "accuracy"}],
            }
        },
    }
    with pytest.raises(ConfigurationError) as info:
        build_experiment(config, registry)
    assert str(info.value) == shown.group(1)
