"""Write a task's predictions next to its gold labels, in formats other tools read."""

from __future__ import annotations

import json
from pathlib import Path

from mtdnn.data import TaskData
from mtdnn.task import Task
from mtdnn.training.evaluation import TaskPredictions
from mtdnn.types import SpanPrediction

__all__ = ["write_predictions"]


def write_predictions(task: Task, data: TaskData, result: TaskPredictions, directory: Path) -> Path:
    """Write ``result`` for ``data`` into ``directory``; return the file written.

    - Sequence labelling: ``TASK.conll``, one ``word gold predicted`` line per word (``O`` for
      unlabelled data's gold column) and a blank line after each sentence, the input of the
      classic ``conlleval`` script.
    - Extractive QA: ``TASK.json``, ``{question id: answer text}`` (``""`` for no answer), the
      predictions file of the official SQuAD evaluation scripts.
    - Other tasks: ``TASK.jsonl``, one ``{"id", "prediction", "gold"}`` object per example, with
      label names where the task has labels.
    """
    directory.mkdir(parents=True, exist_ok=True)
    decoded = result.decoded
    if decoded is not None and all(isinstance(item, SpanPrediction) for item in decoded):
        path = directory / f"{task.name}.json"
        answers = {example.id: item.text for example, item in zip(data.examples, decoded, strict=True)}
        path.write_text(json.dumps(answers, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path
    if decoded is not None:
        path = directory / f"{task.name}.conll"
        with path.open("w", encoding="utf-8") as stream:
            for example, tags in zip(data.examples, decoded, strict=True):
                gold = example.tags or ("O",) * len(tags)
                for word, right, guess in zip(example.words or (), gold, tags, strict=True):
                    stream.write(f"{word} {right} {guess}\n")
                stream.write("\n")
        return path
    path = directory / f"{task.name}.jsonl"
    labels = task.labels
    with path.open("w", encoding="utf-8") as stream:
        for index, example in enumerate(data.examples):
            value = result.predictions[index]
            if labels is None:
                prediction: object = float(value)
            elif value.dim() == 1:  # multi-hot
                prediction = [name for name, on in zip(labels, value.tolist(), strict=True) if on]
            else:
                prediction = labels[int(value)]
            record = {"id": example.id, "prediction": prediction, "gold": example.label}
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path
