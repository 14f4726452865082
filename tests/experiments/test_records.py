"""experiments/: a sweep records its finished runs in git and does not train them again."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "experiments"))

import glue_results  # the drivers import each other from their folder


def test_a_recorded_run_is_reused_anywhere_and_a_changed_one_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(glue_results, "RECORDS", tmp_path / "records")
    trained: list[Path] = []

    def train(config: str, run_dir: Path, tlas: list[str]) -> dict[str, dict[str, float]]:
        trained.append(run_dir)
        return {"rte": {"accuracy": 0.61}}

    monkeypatch.setattr(glue_results, "run", train)
    tlas = ["-A", "data_root=/here/data", "--tla-code", "seed=1", "-A", "precision=fp32"]
    sweep = glue_results.Sweep(tmp_path / "runs" / "adversarial", report=False)
    sweep.add("single-task", "single-rte-seed1", "configs/glue/single_task.jsonnet", tlas, ["rte"])
    assert trained == [tmp_path / "runs" / "adversarial" / "single-rte-seed1"]
    record = tmp_path / "records" / "adversarial" / "single-rte-seed1.json"
    assert '"data_root' not in record.read_text()
    # another machine: another data root, no run directory, even in report mode
    elsewhere = ["-A", "data_root=/there/data", *tlas[2:]]
    for report in (False, True):
        again = glue_results.Sweep(tmp_path / "other" / "adversarial", report=report)
        again.add("single-task", "single-rte-seed1", "configs/glue/single_task.jsonnet", elsewhere, ["rte"])
        assert again.scores == {("single-task", "rte"): [{"accuracy": 0.61}]}
    assert len(trained) == 1
    changed = [*tlas[:4], "-A", "precision=bf16"]
    with pytest.raises(SystemExit, match="records single-rte-seed1 with other settings"):
        sweep.add("single-task", "single-rte-seed1", "configs/glue/single_task.jsonnet", changed, ["rte"])


def test_a_teacher_whose_directory_is_gone_is_trained_again_and_the_record_keeps_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(glue_results, "RECORDS", tmp_path / "records")
    scores = iter([0.61, 0.59])
    trained: list[Path] = []

    def train(config: str, run_dir: Path, tlas: list[str]) -> dict[str, dict[str, float]]:
        trained.append(run_dir)
        return {"rte": {"accuracy": next(scores)}}

    monkeypatch.setattr(glue_results, "run", train)
    tlas = ["--tla-code", "seed=1"]
    config = "configs/glue/single_task.jsonnet"
    glue_results.Sweep(tmp_path / "a" / "runs", report=False).add("single-task", "rte", config, tlas, ["rte"])
    # on another machine the record alone serves a table, but a teacher needed for targets is trained
    elsewhere = glue_results.Sweep(tmp_path / "b" / "runs", report=False)
    elsewhere.add("single-task", "rte", config, tlas, ["rte"])
    assert len(trained) == 1
    elsewhere.add("teachers", "rte", config, tlas, ["rte"], model=True)
    assert trained[-1] == tmp_path / "b" / "runs" / "rte"
    assert elsewhere.scores[("teachers", "rte")] == [{"accuracy": 0.61}]  # the table keeps the record
    record = json.loads((tmp_path / "records" / "runs" / "rte.json").read_text())
    assert record["dev"] == {"rte": {"accuracy": 0.61}}
    assert [again["dev"] for again in record["retrained"]] == [{"rte": {"accuracy": 0.59}}]
    # a report never trains
    report = glue_results.Sweep(tmp_path / "c" / "runs", report=True)
    report.add("t", "rte", config, tlas, ["rte"], model=True)
    assert len(trained) == 2


def test_a_derived_score_is_computed_once_and_then_read_from_its_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(glue_results, "RECORDS", tmp_path / "records")
    sweep = glue_results.Sweep(tmp_path / "runs", report=False)
    sweep.add_derived("ensemble", "ensemble-rte", "rte", ["rte-1", "rte-2"], None)  # inputs missing
    assert sweep.scores == {}
    sweep.add_derived("ensemble", "ensemble-rte", "rte", ["rte-1", "rte-2"], lambda: {"accuracy": 0.7})
    assert sweep.recorded("ensemble-rte")
    later = glue_results.Sweep(tmp_path / "elsewhere" / "runs", report=True)
    later.add_derived("ensemble", "ensemble-rte", "rte", ["rte-1", "rte-2"], None)
    assert later.scores == {("ensemble", "rte"): [{"accuracy": 0.7}]}
    with pytest.raises(SystemExit, match="other settings"):
        later.add_derived("ensemble", "ensemble-rte", "rte", ["rte-1", "rte-3"], None)


def test_the_average_column_averages_each_seed_then_the_seeds() -> None:
    scores = {
        ("multi", "rte"): [{"accuracy": 0.50}, {"accuracy": 0.60}],
        ("multi", "cola"): [{"mcc": 0.10}, {"mcc": 0.30}],
        ("partial", "rte"): [{"accuracy": 0.50}, {"accuracy": 0.60}],
        ("partial", "cola"): [{"mcc": 0.10}],
    }
    lines = glue_results.score_rows(scores, ["rte", "cola"], ["multi", "partial"], average=True)
    assert lines[0].endswith("| average |") and lines[1].count("|---") == 5
    # seeds' averages 0.30 and 0.45: mean 37.5, sample sd 10.6
    assert lines[2] == "| multi | 2 | 55.0 ± 7.1 | 20.0 ± 14.1 | 37.5 ± 10.6 |"
    assert lines[3].endswith("| 10.0 (1 seed) | - |")


def test_differences_are_taken_seed_by_seed_and_incomplete_pairs_left_out() -> None:
    scores = {
        ("multi", "rte"): [{"accuracy": 0.50}, {"accuracy": 0.60}],
        ("single", "rte"): [{"accuracy": 0.52}, {"accuracy": 0.55}],
        ("partial", "rte"): [{"accuracy": 0.50}],
    }
    lines = glue_results.difference_rows(scores, ["rte"], [("multi", "single"), ("partial", "single")])
    assert lines[2:] == ["| multi minus single | -2.0, +5.0 |"]
