"""Predict labels for raw text (TSV or JSONL) with a trained run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, TextIO

from mtdnn.api.tagging import spacy_words
from mtdnn.archive import load_run
from mtdnn.data import read_examples
from mtdnn.errors import ConfigurationError, DataError
from mtdnn.experiment import Experiment
from mtdnn.model import MultiTaskModel
from mtdnn.readers.raw import read_raw_examples
from mtdnn.registry import Registry
from mtdnn.task import Task
from mtdnn.training.device import select_device
from mtdnn.training.evaluation import predict_task
from mtdnn.types import Example

__all__ = ["predict_examples", "predict_file", "read_raw_examples"]


def predict_file(
    run_dir: Path,
    registry: Registry,
    *,
    task: str,
    input_path: Path,
    output: TextIO,
    device: str = "auto",
    words: str = "blank:en",
    input_format: Literal["raw", "task"] = "raw",
) -> int:
    """Write one JSON line per input with its prediction: the input's ``id`` and the head's record.

    ``input_format`` ``raw`` reads ``input_path`` with :func:`read_raw_examples`; ``task`` reads
    it with the task's own reader (:meth:`~mtdnn.readers.base.Reader.without_labels`, so a label
    column may be absent), and any gold labels are ignored.

    For the built-in heads: classification: ``label`` and per-label ``probabilities``;
    multi-label: ``labels`` (those predicted) and ``probabilities``; real-valued tasks:
    ``prediction``, a float; masked-LM: ``masked``, ``correct`` and ``loss``. Sequence
    labelling: the text is split into words with spaCy (``words``, see
    :func:`mtdnn.api.tagging.spacy_words`) and the line holds ``text``, ``entities`` (``start``,
    ``end``, ``label`` and ``text`` of each, with character offsets into the text), ``words`` and
    ``tags``. Extractive QA (``text_a`` the question, ``text_b`` the context): ``answer``,
    ``start`` (its character offset in the context; -1 and ``""`` for no answer) and ``nbest``.

    Returns:
        The number of predictions written.

    Raises:
        ConfigurationError: The run has no such task.
    """
    experiment, model = load_run(run_dir, registry)
    spec = _task(experiment, task)  # before reading the inputs
    if input_format == "task":
        reader = spec.settings.reader.without_labels()
        examples = tuple(
            replace(example, label=None, tags=None, answers=None)
            for example in read_examples(reader, input_path)
        )
    else:
        examples = tuple(read_raw_examples(input_path, pairs=spec.settings.reader.pairs))
    if not examples:
        raise DataError("no inputs", file=str(input_path))
    records = predict_examples(
        experiment, model, examples, task=task, device=device, words=words, source=str(input_path)
    )
    output.writelines(json.dumps(record) + "\n" for record in records)
    return len(records)


def predict_examples(
    experiment: Experiment,
    model: MultiTaskModel,
    examples: Sequence[Example],
    *,
    task: str,
    device: str = "auto",
    words: str = "blank:en",
    source: str = "<inputs>",
) -> list[dict[str, Any]]:
    """The JSON records of :func:`predict_file` for raw ``examples``, with a loaded run's model.

    Raises:
        ConfigurationError: The run has no such task.
    """
    spec = _task(experiment, task)
    if spec.head.input_words and any(example.words is None for example in examples):
        split = spacy_words([example.text_a for example in examples], words)  # raw text only
        examples = tuple(
            replace(example, words=tuple(word for word, _ in pieces))
            for example, pieces in zip(examples, split, strict=True)
        )
    data = spec.featurize(list(examples), experiment.encoder, source=source)
    target = select_device(device)
    result = predict_task(model.to(target), spec, data, device=target)
    return [
        {"id": example.id, **spec.head.record(prediction, example)}
        for example, prediction in zip(examples, result.predictions, strict=True)
    ]


def _task(experiment: Experiment, name: str) -> Task:
    if name not in experiment.tasks:
        raise ConfigurationError(
            f"the run has no task {name!r}", hint=f"tasks: {', '.join(sorted(experiment.tasks))}"
        )
    return experiment.tasks[name]
