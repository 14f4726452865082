"""What every export format shares: the model as one module of tensors, test inputs, head checks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from mtdnn.errors import ConfigurationError
from mtdnn.experiment import Experiment
from mtdnn.export.manifest import Tokenization
from mtdnn.export.runtime import pad_rows
from mtdnn.heads.base import Head
from mtdnn.model import MultiTaskModel
from mtdnn.types import TaskBatch

__all__ = ["TaskGraph", "check_inherited", "check_output", "check_task_names", "example_inputs"]


def check_output(output: Path) -> None:
    """Refuse an export directory that exists and is not empty.

    Raises:
        ConfigurationError: It holds something (an export never overwrites).
    """
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise ConfigurationError(
            f"{str(output)!r} exists and is not an empty directory", hint="choose a new -o"
        )


def check_task_names(experiment: Experiment, names: Sequence[str]) -> None:
    """Refuse task names the run does not have, listing the ones it has.

    Raises:
        ConfigurationError: A name is not one of the run's tasks.
    """
    unknown = [name for name in names if name not in experiment.tasks]
    if unknown:
        raise ConfigurationError(
            f"the run has no task {', '.join(map(repr, unknown))}",
            hint=f"tasks: {', '.join(sorted(experiment.tasks))}",
        )


class TaskGraph(nn.Module):
    """The encoder and the chosen heads as one module with tensor inputs and one output per task.

    Each output is the head's :meth:`~mtdnn.heads.base.Head.export_scores`.
    """

    def __init__(self, model: MultiTaskModel, tasks: Sequence[str], input_names: Sequence[str]) -> None:
        super().__init__()
        self.model = model
        self.tasks = list(tasks)
        self.input_names = list(input_names)

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        named = dict(zip(self.input_names, inputs, strict=True))
        encoded = self.model.encoder(named)
        return tuple(
            self.model.head(task).export_scores(encoded, TaskBatch(task=task, inputs=named, labels=None))
            for task in self.tasks
        )


DECODING = ("forward", "decode", "predict", "choose", "probabilities", "row_scores")
"""The head methods that make predictions: a subclass that changes one decodes differently."""


def check_inherited(cls: type[Head], method: str) -> None:
    """Refuse a head that inherits the export ``method`` but changes how its parent decodes.

    A CRF head derived from the tagging head decodes with Viterbi, not per word: the inherited
    ``export_decoding`` (or ``export_hf``) would give other predictions than PyTorch does.

    Raises:
        ConfigurationError: A class below the one defining ``method`` overrides one of the
            methods that make predictions.
    """
    owner = next(klass for klass in cls.__mro__ if method in vars(klass))
    if owner is Head:
        return  # Head's own refusal says it better
    for klass in cls.__mro__[: cls.__mro__.index(owner)]:
        changed = [name for name in DECODING if name in vars(klass)]
        if changed:
            raise ConfigurationError(
                f"the {klass.__name__} head changes {', '.join(changed)} of {owner.__name__} but inherits "
                f"its {method}, so an export would decode its scores as {owner.__name__} does",
                hint=f"define {klass.__name__}.{method} for exports",
            )


def example_inputs(
    tokenization: Tokenization, input_names: Sequence[str], batch: int, length: int, *, seed: int
) -> tuple[torch.Tensor, ...]:
    """Random token ids with the layout's special tokens, each row a different length (padded)."""
    generator = torch.Generator().manual_seed(seed)
    layout = tokenization.layouts[True]
    specials = {token for tokens, _ in layout.parts for token, _ in tokens}
    low = max(specials | {tokenization.pad_id, tokenization.unknown_id}) + 1
    room = length - len(layout.build([], [])[0]["input_ids"])
    rows: list[dict[str, list[int]]] = []
    for number in range(batch):
        real = max(2, room - (number * room) // max(batch, 2))  # the first row is full, later ones padded
        ids = torch.randint(low, low + 5000, (real,), generator=generator).tolist()
        features, _, _ = layout.build(ids[: real // 2], ids[real // 2 :])
        rows.append(features)
    batch_arrays, _ = pad_rows(rows, input_names, tokenization)
    return tuple(torch.from_numpy(batch_arrays[name]) for name in input_names)
