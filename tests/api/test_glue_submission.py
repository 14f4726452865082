"""GLUE submission files from a trained run's predictions on the real GLUE test files."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from mtdnn.api import train
from mtdnn.cli import make_cli
from mtdnn.hooks import get_plugin_manager
from mtdnn.registry import Registry
from tests.conftest import quickstart_config


def test_submission_files_have_one_labelled_row_per_test_example(
    tmp_path: Path, repo_root: Path, shared_data: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = quickstart_config(repo_root, tiny_bert, epochs=1)
    config["tasks"] = {"rte": config["tasks"]["rte"], "sst2": config["tasks"]["sst2"]}
    config["tasks"]["rte"]["test"] = str(shared_data / "glue" / "RTE" / "test.tsv")
    config["tasks"]["sst2"]["test"] = str(shared_data / "glue" / "SST-2" / "test.tsv")
    train(config, tmp_path / "run", registry)

    result = CliRunner().invoke(
        make_cli(get_plugin_manager(autoload=False)),
        ["glue-submission", str(tmp_path / "run"), "-o", str(tmp_path / "glue")],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "glue").iterdir()) == ["RTE.tsv", "SST-2.tsv"]
    for name, count, labels in (("RTE", 3000, {"entailment", "not_entailment"}), ("SST-2", 1821, {"0", "1"})):
        lines = (tmp_path / "glue" / f"{name}.tsv").read_text().splitlines()
        assert lines[0] == "index\tprediction"
        rows = [line.split("\t") for line in lines[1:]]
        assert [index for index, _ in rows] == [str(i) for i in range(count)]  # the test files' own index
        assert {label for _, label in rows} <= labels

    bad = CliRunner().invoke(
        make_cli(get_plugin_manager(autoload=False)),
        ["glue-submission", str(tmp_path / "run"), "-o", str(tmp_path / "x"), "--task", "mrpc"],
    )
    assert bad.exit_code == 1 and "'mrpc' is not a GLUE task of this run" in bad.output
