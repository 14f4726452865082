"""``mtdnn predict`` and ``evaluate`` check inputs and outputs before any work, and leave no half file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mtdnn.api import train
from mtdnn.cli import make_cli
from mtdnn.commands.common import writing
from mtdnn.hooks import build_registry, get_plugin_manager
from tests.conftest import quickstart_config


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, repo_root: Path, tiny_bert: Path) -> Path:
    """SST-2 (one text) and RTE (a pair) on a tiny BERT, 16 examples each."""
    config = quickstart_config(repo_root, tiny_bert, epochs=1)
    config["tasks"] = {name: {**config["tasks"][name], "train_limit": 16} for name in ("sst2", "rte")}
    folder = tmp_path_factory.mktemp("predict-inputs") / "run"
    train(config, folder, build_registry(get_plugin_manager(autoload=False)))
    return folder


def _mtdnn(*args: str) -> Any:
    return CliRunner().invoke(make_cli(get_plugin_manager(autoload=False)), list(args))


PAIR = "A man eats.\tSomeone eats.\nA dog runs.\n"
TWICE = '{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n'


@pytest.mark.parametrize(
    ("task", "name", "content", "message"),
    [
        ("rte", "in.tsv", PAIR, "in.tsv:2: the task takes a pair of texts"),
        ("sst2", "in.tsv", "a fine film\nsome\tthing\n", "in.tsv:2: the task takes one text, and this input"),
        (
            "rte",
            "in.jsonl",
            '{"text": "A man eats."}\n',
            'in.jsonl:1: the task takes a pair of texts ({"text"',
        ),
        ("sst2", "in.jsonl", TWICE, "id 'a' was already used at line 1"),
    ],
)
def test_inputs_that_do_not_fit_the_task_are_errors_at_their_line(
    run: Path, tmp_path: Path, task: str, name: str, content: str, message: str
) -> None:
    source = tmp_path / name
    source.write_text(content)
    result = _mtdnn("predict", str(run), str(source), "--task", task, "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 1 and message in result.output
    assert not (tmp_path / "out.jsonl").exists()  # nothing half-written
    assert list(tmp_path.iterdir()) == [source]


def test_an_output_in_a_missing_folder_is_refused_before_any_work(run: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.tsv"
    source.write_text("a fine film\n")
    missing = tmp_path / "nowhere" / "out.jsonl"
    result = _mtdnn("predict", str(run), str(source), "--task", "sst2", "-o", str(missing))
    assert result.exit_code == 2 and "the folder" in result.output and "does not exist" in result.output
    result = _mtdnn("evaluate", str(run), "--output-json", str(missing))
    assert result.exit_code == 2 and "does not exist" in result.output
    assert "accuracy" not in result.output  # refused before the evaluation ran
    result = _mtdnn("predict", str(run), str(source), "--task", "sst2", "-o", str(tmp_path))
    assert result.exit_code == 2 and "is a directory" in result.output  # click's own check


def test_predictions_and_metrics_are_written_whole(run: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.tsv"
    source.write_text("a fine film\na dull film\n")
    out = tmp_path / "out.jsonl"
    assert _mtdnn("predict", str(run), str(source), "--task", "sst2", "-o", str(out)).exit_code == 0
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["1", "2"]
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask  # as open() makes a file, not mkstemp's 0600
    metrics = tmp_path / "metrics.json"
    assert _mtdnn("evaluate", str(run), "--output-json", str(metrics)).exit_code == 0
    assert set(json.loads(metrics.read_text())) == {"sst2", "rte"}


def test_a_failure_while_writing_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")
    with pytest.raises(OSError, match="disk full"), writing(target) as stream:
        stream.write("new, half")
        raise OSError(28, "disk full")
    assert target.read_text() == "old\n" and list(tmp_path.iterdir()) == [target]
