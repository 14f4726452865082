"""Heads own their output: a plugin head with a new kind of prediction is evaluated, predicted and
written by `mtdnn evaluate` and `mtdnn predict` with no change to the core."""

from __future__ import annotations

import ast
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from mtdnn.api import train
from mtdnn.api.evaluate import evaluate_run
from mtdnn.api.predict import predict_file
from mtdnn.data import TaskData
from mtdnn.heads import Head
from mtdnn.heads.base import output_layers
from mtdnn.metrics import Metric
from mtdnn.metrics.base import DecodedMetric
from mtdnn.registry import Registry
from mtdnn.types import EncoderOutput, Example, HeadOutput, TaskBatch
from tests.conftest import quickstart_config


@dataclass(frozen=True)
class Verdict:
    """A prediction type the core has never seen."""

    entails: bool
    confidence: float


class VerdictHead(Head):
    """Predicts a :class:`Verdict` per pair.

    Args:
        input_dim: Size of the pooled vector (run time).
        num_labels: The task's label count (run time).
    """

    def __init__(self, input_dim: int, num_labels: int) -> None:
        super().__init__()
        self.scorer = output_layers(input_dim, num_labels, dropout=0.0, hidden_dim=None)

    def forward(self, encoded: EncoderOutput, batch: TaskBatch) -> HeadOutput:
        return HeadOutput(logits=self.scorer(encoded.pooled))

    def row_scores(self, output: HeadOutput, batch: TaskBatch) -> list[torch.Tensor]:
        return list(torch.softmax(output.logits.float(), -1).cpu())

    def decode(self, data: TaskData, scores: Sequence[torch.Tensor]) -> list[Any]:
        return [Verdict(entails=bool(row[0] > row[1]), confidence=float(row.max())) for row in scores]

    def record(self, prediction: Any, example: Example) -> dict[str, Any]:
        return {
            "verdict": "yes" if prediction.entails else "no",
            "confidence": round(prediction.confidence, 3),
        }

    def write_predictions(self, stem: Path, examples: Sequence[Example], predictions: Sequence[Any]) -> Path:
        path = stem.with_suffix(".txt")
        path.write_text("".join(f"{e.id} {p.entails}\n" for e, p in zip(examples, predictions, strict=True)))
        return path


class VerdictAccuracy(DecodedMetric):
    """Share of verdicts that match the gold label (``entailment`` is yes)."""

    def compute(self) -> dict[str, float]:
        hits = [
            p.entails == (e.label == "entailment") for p, e in zip(self.decoded, self.examples, strict=True)
        ]
        return {"verdict_accuracy": sum(hits) / max(len(hits), 1)}


def test_a_plugin_head_with_its_own_prediction_type_needs_no_core_change(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    registry.add(Head, "verdict", VerdictHead)
    registry.add(Metric, "verdict_accuracy", VerdictAccuracy)
    config = quickstart_config(repo_root, tiny_bert, epochs=1)
    rte = config["tasks"]["rte"]
    config["tasks"] = {"rte": {**rte, "head": "verdict", "metrics": ["verdict_accuracy"], "train_limit": 32}}
    run = tmp_path / "run"
    result = train(config, run, registry)
    assert list(result.state.best_metrics["rte"]) == ["verdict_accuracy"]

    scores = evaluate_run(run, registry, predictions=tmp_path / "predictions")
    assert 0.0 <= scores["rte"]["verdict_accuracy"] <= 1.0
    lines = (tmp_path / "predictions" / "rte.txt").read_text().splitlines()
    assert len(lines) == 200 and lines[0].split()[1] in ("True", "False")

    inputs = tmp_path / "pairs.jsonl"
    inputs.write_text('{"id": "p1", "text_a": "A man sleeps.", "text_b": "Someone rests."}\n')
    output = io.StringIO()
    assert predict_file(run, registry, task="rte", input_path=inputs, output=output) == 1
    record = json.loads(output.getvalue())
    assert record["id"] == "p1" and record["verdict"] in ("yes", "no") and 0.5 <= record["confidence"] <= 1.0


def test_the_core_does_not_dispatch_on_prediction_types(repo_root: Path) -> None:
    banned = {"SpanPrediction", "LabelPrediction", "MaskedTokens", "structured", "dim", "decoded"}
    for module in ("api/predict.py", "api/prediction_files.py", "training/evaluation.py"):
        tree = ast.parse((repo_root / "mtdnn" / module).read_text())
        used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        used |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        used |= {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names
        }
        assert not used & banned, f"{module} uses {sorted(used & banned)}"
