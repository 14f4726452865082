"""The trainer plans each epoch with the batch counts of the streams themselves (regression test).

Batches keep ranking groups whole, so a task can have more batches than ``ceil(examples /
batch_size)``: 30 candidates in groups of 3 with batch size 4 make 10 batches of one group each,
where the formula the trainer used to plan with gives 8, so 2 batches were skipped every epoch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mtdnn.api import train
from mtdnn.api.train import load_split
from mtdnn.data.streams import batch_counts, epoch_streams
from mtdnn.experiment import build_experiment
from mtdnn.registry import Registry
from mtdnn.training import Objective
from mtdnn.training.objective import ObjectiveOutput, Step, TaskLossObjective


def _qnli(path: Path, questions: int) -> Path:
    rows = ["index\tquestion\tsentence\tlabel"]
    for question in range(questions):
        for candidate in range(3):
            label = "entailment" if candidate == question % 3 else "not_entailment"
            sentence = f"candidate sentence number {candidate} about topic {question}"
            rows.append(f"{len(rows) - 1}\twhat is question {question}?\t{sentence}\t{label}")
    path.write_text("\n".join(rows) + "\n")
    return path


def _config(tmp_path: Path, tiny_bert: Path) -> dict[str, Any]:
    task = {
        "reader": {"type": "qnli_ranking"},
        "head": {"type": "ranking"},
        "loss": {"type": "ranking_ce"},
        "metrics": [{"type": "ranking_accuracy"}],
        "train": str(_qnli(tmp_path / "train.tsv", 10)),
        "batch_size": 4,
    }
    return {
        "encoder": {"type": "hf", "model": str(tiny_bert)},
        "tasks": {"qnli": task},
        "trainer": {"epochs": 2, "progress_bar": False, "objective": "seen"},
    }


class Seen(Objective):
    """The task loss, remembering the ids of every example trained on."""

    ids: list[str] = []

    def __call__(self, step: Step) -> ObjectiveOutput:
        Seen.ids.extend(step.batch.ids)
        return TaskLossObjective()(step)


def test_every_batch_of_a_grouped_task_is_trained(
    tmp_path: Path, tiny_bert: Path, registry: Registry
) -> None:
    registry.add(Objective, "seen", Seen)
    config = _config(tmp_path, tiny_bert)
    experiment = build_experiment(config, registry)
    data = load_split(experiment, "train")
    assert len(data["qnli"]) == 30
    streams = epoch_streams(data, {"qnli": 4}, seed=experiment.seed, epoch=0)
    assert batch_counts(streams) == {"qnli": 10}  # one group of 3 per batch of at most 4

    Seen.ids = []
    result = train(config, tmp_path / "run", registry)
    assert result.state.global_step == 20 and result.state.total_steps == 20  # 10 a epoch, not 8
    assert (
        sorted(Seen.ids[:30])
        == sorted(Seen.ids[30:])
        == sorted(example.id for example in data["qnli"].examples)
    )
