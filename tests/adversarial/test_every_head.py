"""Every built-in head trains a few steps under every adversarial objective, with both encoders."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch

from mtdnn.config import build
from mtdnn.data import make_batch
from mtdnn.encoders import Encoder, HuggingFaceEncoder, LstmEncoder
from mtdnn.heads import Head
from mtdnn.losses import Loss
from mtdnn.metrics import Metric
from mtdnn.model import MultiTaskModel
from mtdnn.readers.base import Reader
from mtdnn.registry import Registry
from mtdnn.task import Task, TaskSettings
from mtdnn.training.objective import Objective, Step
from mtdnn.types import Answer, Example
from tests.encoders.families import FAMILIES

OBJECTIVES: dict[str, dict[str, Any]] = {
    "smart": {"type": "smart", "epsilon": 1e-2, "step_size": 1e-2},
    "smart_renormalize": {"type": "smart", "update": "renormalize", "norm": "l2", "granularity": "sequence"},
    "smart_proximal": {"type": "proximal", "inner": {"type": "smart", "same_dropout": True}},
    "freelb": {"type": "freelb", "max_norm": 0.1},
    "fgm": {"type": "fgm"},
    "pgd": {"type": "pgd", "steps": 2},
}
METRICS = {"tagging": "seqeval", "span": "squad", "mlm": "masked_lm", "regression": "pearson"}
CONTEXT = "The Normans gave their name to Normandy, a region in France."
TEXTS = ["a fine film", "a dull and long film", "the plot is thin", "great acting", "bad", "not bad at all"]


class _Labels(Reader):
    def __init__(self, labels: list[str] | None) -> None:
        self._labels = labels

    @property
    def labels(self) -> list[str] | None:
        return self._labels

    def read(self, path: str | Path) -> Any:
        raise NotImplementedError


def _examples(kind: str) -> tuple[list[Example], list[str] | None, str]:
    """Examples, labels and loss of a small task for a head type."""
    if kind in ("classification", "san"):
        return (
            [Example(str(i), t, "b", label="ab"[i % 2]) for i, t in enumerate(TEXTS)],
            ["a", "b"],
            "cross_entropy",
        )
    if kind == "regression":
        return [Example(str(i), t, label=i / 5) for i, t in enumerate(TEXTS)], None, "mse"
    if kind == "ranking":
        rows = [
            Example(str(i), "q" + str(i // 3), t, label="ab"[i % 3 == 0], group=str(i // 3))
            for i, t in enumerate(TEXTS)
        ]
        return rows, ["a", "b"], "ranking_ce"
    if kind == "multilabel":
        return (
            [Example(str(i), t, label=[["x"], ["x", "y"], []][i % 3]) for i, t in enumerate(TEXTS)],
            ["x", "y"],
            "bce",
        )
    if kind == "tagging":
        tags = ["O", "B", "I"]
        rows = []
        for i, text in enumerate(TEXTS):
            words = tuple(text.split())
            rows.append(
                Example(str(i), text, words=words, tags=tuple(tags[(i + j) % 3] for j in range(len(words))))
            )
        return rows, ["O", "B", "I"], "cross_entropy"
    if kind == "span":
        answer = Answer("Normandy", CONTEXT.index("Normandy"))
        return (
            [Example(str(i), f"where {t}?", CONTEXT, answers=(answer,)) for i, t in enumerate(TEXTS)],
            None,
            "span_ce",
        )
    return [Example(str(i), t) for i, t in enumerate(TEXTS * 2)], None, "mlm"  # mlm


def _encoder(name: str, tiny_bert: Path) -> Encoder:
    if name == "lstm":
        return LstmEncoder(tokenizer=str(tiny_bert), embedding_dim=16, hidden_size=8)
    return HuggingFaceEncoder(str(tiny_bert))


def _setup(registry: Registry, encoder: Encoder, kind: str) -> tuple[MultiTaskModel, Task, Any]:
    examples, labels, loss = _examples(kind)
    options: dict[str, Any] = {
        "mlm": {"encoder": encoder},
        "span": {"max_question_length": 8, "doc_stride": 8},
    }.get(kind, {})
    head = build(
        registry,
        Head,
        kind,
        path="head",
        input_dim=encoder.output_dim,
        num_labels=len(labels or [0]),
        labels=labels,
        task="t",
        **options,
    )
    settings = TaskSettings(
        _Labels(labels),
        kind,
        loss=build(registry, Loss, loss, path="loss"),
        metrics=[build(registry, Metric, METRICS.get(kind, "accuracy"), path="metric")],
        max_length=32,
    )
    task = Task("t", settings, head)
    data = task.featurize(examples, encoder, source="test")
    return MultiTaskModel(encoder, {"t": head}), task, data


def _train(
    registry: Registry, encoder: Encoder, kind: str, objective_config: dict[str, Any]
) -> dict[str, float]:
    """Three optimizer steps; return the reported values of the last one."""
    torch.manual_seed(0)
    model, task, data = _setup(registry, encoder, kind)
    model.train()
    objective = build(registry, Objective, objective_config, path="trainer.objective")
    objective.setup(model, tasks={"t": task}, total_steps=3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    before = [p.detach().clone() for p in model.parameters()]
    reported: dict[str, float] = {}
    for number in range(3):
        batch = model.prepare(make_batch(data, range(len(data.examples)), model.encoder))
        result = objective(
            Step(model=model, module=model, batch=batch, task=task, global_step=number, total_steps=3)
        )
        result.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        objective.on_step_end(model, global_step=number + 1, total_steps=3)
        reported = {"loss": float(result.loss.detach()), **{k: float(v) for k, v in result.scalars.items()}}
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert all(torch.isfinite(p).all() for p in model.parameters())
    return reported


HEADS = ["classification", "san", "regression", "ranking", "multilabel", "tagging", "span", "mlm"]


@pytest.mark.parametrize("objective", list(OBJECTIVES))
@pytest.mark.parametrize("kind", HEADS)
def test_every_head_trains_under_every_objective(
    registry: Registry, tiny_bert: Path, kind: str, objective: str
) -> None:
    reported = _train(registry, _encoder("hf", tiny_bert), kind, OBJECTIVES[objective])
    assert all(math.isfinite(value) for value in reported.values()), reported
    assert reported["embedding_rms"] > 0
    delta = next(value for key, value in reported.items() if key.endswith("_delta_rms"))
    assert delta > 0  # the perturbation was not empty


@pytest.mark.parametrize("objective", list(OBJECTIVES))
def test_the_lstm_encoder_trains_under_every_objective(
    registry: Registry, tiny_bert: Path, objective: str
) -> None:
    reported = _train(registry, _encoder("lstm", tiny_bert), "classification", OBJECTIVES[objective])
    assert all(math.isfinite(value) for value in reported.values()), reported


@pytest.mark.parametrize("objective", ["smart_proximal", "freelb", "fgm"])
@pytest.mark.parametrize("family", FAMILIES)
def test_every_encoder_family_trains_under_the_objectives(
    registry: Registry, family_dirs: dict[str, Path], family: str, objective: str
) -> None:
    encoder = HuggingFaceEncoder(str(family_dirs[family]))
    reported = _train(registry, encoder, "classification", OBJECTIVES[objective])
    assert all(math.isfinite(value) for value in reported.values()), reported
    assert reported["embedding_rms"] > 0
