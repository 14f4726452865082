"""Token-level distillation: tagging targets per word (any student tokenizer), span targets per token."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from mtdnn.config import build
from mtdnn.data import make_batch
from mtdnn.distill import SoftTargets, TaskTargets
from mtdnn.errors import DataError
from mtdnn.registry import Registry
from mtdnn.task import Task, TaskSettings
from mtdnn.training.device import Autocast
from mtdnn.training.evaluation import score_rows
from mtdnn.training.objective import Objective, Step
from mtdnn.types import Answer, Example
from tests.adversarial.test_every_head import _encoder, _setup

CPU = torch.device("cpu")


def _targets(path: Path, model, task: Task, data, precision: Autocast = "fp32") -> TaskTargets:  # type: ignore[no-untyped-def]
    head = model.head(task.name)
    scores = score_rows(model, task, data, head.teacher_scores, device=CPU, precision=precision)
    ids, rows = head.teacher_rows(data, scores)
    targets = TaskTargets(
        task=task.name,
        head=type(head).__name__,
        soft_targets=str(head.soft_targets),
        labels=task.labels,
        ids=tuple(ids),
        rows=tuple(rows),
        positions=head.soft_positions,
    )
    SoftTargets({task.name: targets}).save(path)
    return targets


def _long_sentences() -> list[Example]:
    sentence = "the patient had a rare form of breast cancer and a mild fever after the surgery"
    words = sentence.split()
    tags = ["O"] * 5 + ["B", "I", "I"] + ["O"] * 8
    return [
        Example(str(i), " ".join(words[i:]), words=tuple(words[i:]), tags=tuple(tags[i:])) for i in range(4)
    ]


def _tagging(registry: Registry, encoder_name: str, tiny_bert: Path, max_length: int):  # type: ignore[no-untyped-def]
    from mtdnn.heads import Head
    from mtdnn.losses import Loss
    from mtdnn.metrics import Metric
    from mtdnn.model import MultiTaskModel
    from tests.adversarial.test_every_head import _Labels

    torch.manual_seed(0)
    encoder = _encoder(encoder_name, tiny_bert)
    labels = ["O", "B", "I"]
    head = build(
        registry, Head, "tagging", path="head", input_dim=encoder.output_dim, labels=labels, task="t"
    )
    settings = TaskSettings(
        _Labels(labels),
        "tagging",
        loss=build(registry, Loss, "cross_entropy", path="loss"),
        metrics=[build(registry, Metric, "seqeval", path="metric")],
        max_length=max_length,
    )
    task = Task("t", settings, head)
    data = task.featurize(_long_sentences(), encoder, source="test")
    return MultiTaskModel(encoder, {"t": head}).eval(), task, data


def test_tagging_targets_are_stored_per_word_and_cut_per_window(
    tmp_path: Path, registry: Registry, tiny_bert: Path
) -> None:
    teacher, task, data = _tagging(registry, "hf", tiny_bert, max_length=16)  # forces windows
    assert data.owners is not None and len(data) > len(data.examples)
    stored = _targets(tmp_path / "t.safetensors", teacher, task, data)
    assert stored.positions == "word"
    assert [row.shape[0] for row in stored.rows] == [len(e.words or ()) for e in data.examples]
    # every window of the teacher's own data gets exactly the logits the teacher gave its words
    scores = score_rows(teacher, task, data, teacher.head("t").teacher_scores, device=CPU)
    batch = make_batch(data, range(len(data)), teacher.encoder)
    head = teacher.head("t")
    rows = SoftTargets.load(tmp_path / "t.safetensors").rows("t", head.target_ids(batch.ids))
    cut = head.teacher_batch(rows, batch)
    for number, row_scores in enumerate(scores):
        extra = data.extras[number]  # type: ignore[index]
        owned = torch.tensor(extra["owned"], dtype=torch.bool)
        torch.testing.assert_close(cut[number, : len(owned)][owned], row_scores[owned])


def test_a_bilstm_student_learns_tags_from_a_transformer_teacher(
    tmp_path: Path, registry: Registry, tiny_bert: Path
) -> None:
    teacher, task, data = _tagging(registry, "hf", tiny_bert, max_length=16)
    _targets(tmp_path / "t.safetensors", teacher, task, data)
    student, student_task, student_data = _tagging(
        registry, "lstm", tiny_bert, max_length=64
    )  # one window each
    objective = build(
        registry, Objective, {"type": "bam", "targets": str(tmp_path / "t.safetensors")}, path="o"
    )
    objective.setup(student, tasks={"t": student_task}, total_steps=8)
    objective.check_data({"t": student_data})
    optimizer = torch.optim.AdamW(student.parameters(), lr=1e-2)
    student.train()
    softs = []
    for _ in range(8):
        batch = make_batch(student_data, range(len(student_data)), student.encoder)
        step = Step(
            model=student, module=student, batch=batch, task=student_task, global_step=0, total_steps=8
        )
        result = objective(step)  # global_step 0: lambda 0, the teacher alone
        result.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        softs.append(float(result.scalars["distill_soft"]))
    assert all(math.isfinite(v) for v in softs)
    assert softs[-1] < softs[0] / 2, softs  # the student moved towards the teacher's distributions


def _span(registry: Registry, tiny_bert: Path, max_length: int):  # type: ignore[no-untyped-def]
    model, task, _ = _setup(registry, _encoder("hf", tiny_bert), "span")
    context = "The Normans gave their name to Normandy, a region in France, in the tenth century. " * 2
    examples = [
        Example(str(i), q, context, answers=(Answer("Normandy", context.index("Normandy")),))
        for i, q in enumerate(["where is it?", "what did they name?", "which region?"])
    ]
    settings = TaskSettings(
        task.settings.reader,
        "span",
        loss=task.settings.loss,
        metrics=task.settings.metrics,
        max_length=max_length,
    )
    task = Task("t", settings, model.head("t"))
    return model.eval(), task, task.featurize(examples, model.encoder, source="test")


def test_span_targets_fit_the_same_windows_and_refuse_others(
    tmp_path: Path, registry: Registry, tiny_bert: Path
) -> None:
    model, task, data = _span(registry, tiny_bert, max_length=32)
    _targets(tmp_path / "t.safetensors", model, task, data)
    objective = build(
        registry, Objective, {"type": "hinton", "targets": str(tmp_path / "t.safetensors")}, path="o"
    )
    objective.setup(model, tasks={"t": task}, total_steps=1)
    objective.check_data({"t": data})
    batch = make_batch(data, range(len(data)), model.encoder)
    with torch.no_grad():
        result = objective(Step(model=model, module=model, batch=batch, task=task, total_steps=1))
    assert float(result.scalars["distill_soft"]) == pytest.approx(0.0, abs=1e-6)  # the teacher itself
    _, other_task, other = _span(registry, tiny_bert, max_length=40)  # other windows
    other_batch = make_batch(other, range(len(other)), model.encoder)
    with pytest.raises(
        DataError, match="span targets need the teacher's tokenizer, max_length and doc_stride"
    ):
        objective(Step(model=model, module=model, batch=other_batch, task=other_task, total_steps=1))
