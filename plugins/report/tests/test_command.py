"""`mtdnn report` through click, on run directories written by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mtdnn.cli import make_cli
from mtdnn.hooks import get_plugin_manager
from mtdnn_report.command import setting_of


def _run(root: Path, name: str, rte: float, mrpc: tuple[float, float]) -> Path:
    run = root / name
    run.mkdir()
    records = [
        {"epoch": 1, "best": True, "dev": {"rte": {"accuracy": 0.5}, "mrpc": {"accuracy": 0.6, "f1": 0.7}}},
        {
            "epoch": 2,
            "best": True,
            "dev": {"rte": {"accuracy": rte}, "mrpc": {"accuracy": mrpc[0], "f1": mrpc[1]}},
        },
        {"epoch": 3, "best": False, "dev": {"rte": {"accuracy": 0.1}, "mrpc": {"accuracy": 0.1, "f1": 0.1}}},
    ]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return run


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(make_cli(get_plugin_manager()), ["report", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_seeds_are_pooled_into_mean_and_sd_of_the_best_evaluation(tmp_path: Path) -> None:
    runs = [
        _run(tmp_path, "smart-seed1", 0.60, (0.75, 0.84)),
        _run(tmp_path, "smart-seed2", 0.50, (0.77, 0.86)),
        _run(tmp_path, "plain", 0.55, (0.70, 0.80)),
    ]
    lines = _invoke(*map(str, runs)).splitlines()
    assert lines[0] == "| setting | runs | rte accuracy | mrpc accuracy |"
    assert lines[2] == "| smart | 2 | 55.0 ± 7.1 | 76.0 ± 1.4 |"
    assert lines[3] == "| plain | 1 | 55.0 | 70.0 |"
    every = _invoke(*map(str, runs), "--metrics", "all", "--no-pooling", "--format", "csv").splitlines()
    assert every[0] == "setting,runs,rte accuracy,mrpc accuracy,mrpc f1"
    assert every[1] == "smart-seed1,1,60.0,75.0,84.0"


@pytest.mark.parametrize(
    ("name", "setting"),
    [
        ("rte-smart-seed2", "rte-smart"),
        ("rte_seed_13", "rte"),
        ("rte.seed3", "rte"),
        ("seed3", "seed3"),
        ("rte", "rte"),
    ],
)
def test_the_setting_is_the_name_without_its_seed(name: str, setting: str) -> None:
    assert setting_of(Path(name)) == setting


def test_a_folder_that_is_no_run_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(make_cli(get_plugin_manager()), ["report", str(tmp_path)])
    assert result.exit_code == 1 and "has no metrics.jsonl" in result.output


def test_runs_without_an_evaluation_are_skipped_with_a_note(tmp_path: Path) -> None:
    done = _run(tmp_path, "done-seed1", 0.6, (0.7, 0.8))
    (tmp_path / "started-seed1").mkdir()
    result = CliRunner().invoke(
        make_cli(get_plugin_manager()), ["report", str(done), str(tmp_path / "started-seed1")]
    )
    assert result.exit_code == 0, result.output
    assert "skipped: " in result.stderr and "started-seed1 has no metrics.jsonl" in result.stderr
    assert "| done | 1 | 60.0 | 70.0 |" in result.stdout
