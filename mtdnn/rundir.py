"""The run directory: the one place that knows its layout.

A run directory (``mtdnn train -s DIR``) is also the model archive::

    config.json        the evaluated config
    plugins.json       the plugins the run was trained with (names and versions)
    labels.json        each task's label vocabulary, in id order
    metrics.jsonl      one JSON line per evaluation
    model/             the best model: encoder/ in its own (Hugging Face) form, heads.safetensors
    checkpoints/       full resumable training state, one folder per checkpoint
    fold_scores.json   the scores a cross-validation fold reports (cross-validation runs only)
    soft_targets.safetensors   the teachers' soft targets (``mtdnn distill CONFIG --teacher ...`` only)

Every other module goes through :class:`RunDirectory` instead of spelling these names.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetensors.torch import save_file

from mtdnn.errors import ConfigurationError
from mtdnn.model import MultiTaskModel

__all__ = ["RunDirectory", "atomic_directory"]


@dataclass(frozen=True)
class RunDirectory:
    """The files of one training run.

    Args:
        path: The run's folder.
    """

    path: Path

    @property
    def config(self) -> Path:
        """The evaluated config (``config.json``)."""
        return self.path / "config.json"

    @property
    def plugins(self) -> Path:
        """The plugin report (``plugins.json``)."""
        return self.path / "plugins.json"

    @property
    def labels(self) -> Path:
        """Each task's labels (``labels.json``)."""
        return self.path / "labels.json"

    @property
    def metrics(self) -> Path:
        """The evaluation records (``metrics.jsonl``)."""
        return self.path / "metrics.jsonl"

    @property
    def model(self) -> Path:
        """The saved best model (``model/``)."""
        return self.path / "model"

    @property
    def encoder(self) -> Path:
        """The saved encoder, in the encoder's own form (``model/encoder``)."""
        return self.model / "encoder"

    @property
    def heads(self) -> Path:
        """The saved heads' weights (``model/heads.safetensors``)."""
        return self.model / "heads.safetensors"

    @property
    def soft_targets(self) -> Path:
        """The soft targets a one-shot ``mtdnn distill`` computed before training (an input of the run)."""
        return self.path / "soft_targets.safetensors"

    def has_run_files(self) -> bool:
        """Whether the folder holds anything but its inputs (the soft targets): a run was started here."""
        return self.path.exists() and any(entry != self.soft_targets for entry in self.path.iterdir())

    def never_trained(self) -> bool:
        """Whether the folder holds only the files written when a run starts: it stopped before training.

        Such a run (a setting that failed once training began, an interrupt in the first batches)
        can be started again over its files; there is nothing in it to lose or resume.
        """
        started = {self.config, self.plugins, self.labels, self.soft_targets}
        return self.path.is_dir() and all(entry in started for entry in self.path.iterdir())

    @property
    def checkpoints(self) -> Path:
        """The folder of resumable checkpoints (``checkpoints/``)."""
        return self.path / "checkpoints"

    @property
    def fold_scores(self) -> Path:
        """The scores of a finished cross-validation fold (``fold_scores.json``)."""
        return self.path / "fold_scores.json"

    def has_model(self) -> bool:
        """Whether a model has been saved (after the first evaluation)."""
        return self.heads.is_file()

    def write_run_files(
        self, config: dict[str, Any], plugins: dict[str, Any], labels: dict[str, list[str] | None]
    ) -> None:
        """Write ``config.json``, ``plugins.json`` and ``labels.json``, creating the folder."""
        self.path.mkdir(parents=True, exist_ok=True)
        self.config.write_text(json.dumps(config, indent=2) + "\n")
        self.plugins.write_text(json.dumps(plugins, indent=2) + "\n")
        self.labels.write_text(json.dumps(labels, indent=2) + "\n")

    def read_config(self) -> dict[str, Any]:
        """The evaluated config saved with the run.

        Raises:
            ConfigurationError: The folder is not a run directory.
        """
        if not self.config.is_file():
            raise ConfigurationError(
                f"{str(self.path)!r} is not a run directory (no {self.config.name})",
                hint="pass the -s folder of `mtdnn train`",
            )
        config: dict[str, Any] = json.loads(self.config.read_text())
        return config

    def read_labels(self) -> dict[str, list[str] | None]:
        """Each task's saved labels (an empty dict for a run saved without them)."""
        if not self.labels.is_file():
            return {}
        labels: dict[str, list[str] | None] = json.loads(self.labels.read_text())
        return labels

    def save_model(self, model: MultiTaskModel) -> Path:
        """Atomically write ``model/``: the encoder's own format plus the heads in safetensors."""
        with atomic_directory(self.model) as tmp:
            model.encoder.save_pretrained(tmp / self.encoder.name)
            heads = {k: v.detach().contiguous().cpu() for k, v in model.heads.state_dict().items()}
            save_file(heads, str(tmp / self.heads.name))
        return self.model

    def add_evaluation(self, record: dict[str, Any], *, best: MultiTaskModel | None) -> None:
        """Keep one evaluation: the model first when it is the ``best`` so far, then the record.

        In this order a record that says ``best`` always has its model in ``model/``.
        """
        if best is not None:
            self.save_model(best)
        self.append_record(record)

    def append_record(self, record: dict[str, Any]) -> None:
        """Append one evaluation record to ``metrics.jsonl`` (creating the folder)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with self.metrics.open("a") as stream:
            stream.write(json.dumps(record) + "\n")

    def read_records(self) -> list[dict[str, Any]]:
        """Every evaluation record (none before the first evaluation)."""
        if not self.metrics.is_file():
            return []
        return [json.loads(line) for line in self.metrics.read_text().splitlines() if line.strip()]

    def truncate_records(self, *, keep: int) -> None:
        """Keep the first ``keep`` records: those written after the checkpoint a run resumes from go."""
        if not self.metrics.is_file():
            return
        kept = self.read_records()[:keep]
        self.metrics.write_text("".join(json.dumps(record) + "\n" for record in kept))


def atomic_directory(target: Path) -> _AtomicDirectory:
    """Context manager yielding a temporary folder that replaces ``target`` only on success."""
    return _AtomicDirectory(target)


class _AtomicDirectory:
    def __init__(self, target: Path) -> None:
        self.target = target
        self.tmp = target.with_name(target.name + ".tmp")

    def __enter__(self) -> Path:
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)
        return self.tmp

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        old = self.target.with_name(self.target.name + ".old")
        if self.target.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(self.target, old)
        os.replace(self.tmp, self.target)
        shutil.rmtree(old, ignore_errors=True)
