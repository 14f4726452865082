"""experiments/: a sweep records its finished runs in git and does not train them again."""

from __future__ import annotations

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
