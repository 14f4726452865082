"""The run directory: the one place that knows its layout.

A run directory (``mtdnn train -s DIR``) is also the model archive::

    config.json        the evaluated config
    plugins.json       the plugins the run was trained with (names and versions)
    labels.json        each task's label vocabulary, in id order
    metrics.jsonl      one JSON line per evaluation
    model/             the best model: encoder/ in its own (Hugging Face) form, heads.safetensors,
                       checksums.json (the sha256 of each file, and of config.json and labels.json)
    checkpoints/       full resumable training state, one folder per checkpoint (each with its
                       checksums.json)
    fold_scores.json   the scores a cross-validation fold reports (cross-validation runs only)
    soft_targets.safetensors   the teachers' soft targets (``mtdnn distill CONFIG --teacher ...`` only)

Every other module goes through :class:`RunDirectory` instead of spelling these names.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetensors.torch import save_file

from mtdnn.errors import ConfigurationError
from mtdnn.model import MultiTaskModel

__all__ = [
    "CHECKSUMS",
    "RunDirectory",
    "atomic_directory",
    "recover_interrupted",
    "sha256",
    "verify_checksums",
    "write_checksums",
]

logger = logging.getLogger(__name__)

CHECKSUMS = "checksums.json"
"""The file in a model or checkpoint folder that holds the sha256 of every other file in it."""


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

    def check_writable(self) -> None:
        """Create the folder if needed and make sure files can be written in it, before any work.

        Raises:
            OSError: The folder cannot be created or written (read-only, no permission, full);
                the error names the path.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".write-check-", dir=self.path)
        os.close(handle)
        os.unlink(probe)

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
        config = _read_json(self.config)
        if not isinstance(config, dict):
            raise ConfigurationError(f"{str(self.config)!r} is damaged: not a JSON object")
        return config

    def read_labels(self) -> dict[str, list[str] | None]:
        """Each task's saved labels (an empty dict for a run saved without them)."""
        if not self.labels.is_file():
            return {}
        labels = _read_json(self.labels)
        if not isinstance(labels, dict):
            raise ConfigurationError(f"{str(self.labels)!r} is damaged: not a JSON object")
        return labels

    def save_model(self, model: MultiTaskModel) -> Path:
        """Atomically write ``model/``: the encoder's own format plus the heads in safetensors.

        Its ``checksums.json`` records the sha256 of every file, and of ``config.json`` and
        ``labels.json`` as they are now, so that :meth:`verify_model` finds a damaged file or a
        hand edit of the run's config or labels.
        """
        with atomic_directory(self.model) as tmp:
            model.encoder.save_pretrained(tmp / self.encoder.name)
            heads = {k: v.detach().contiguous().cpu() for k, v in model.heads.state_dict().items()}
            save_file(heads, str(tmp / self.heads.name))
            write_checksums(tmp, run=self._run_hashes())
        return self.model

    def _run_hashes(self) -> dict[str, str]:
        return {path.name: sha256(path) for path in (self.config, self.labels) if path.is_file()}

    def verify_model(self) -> None:
        """Check ``model/`` against its checksums, and ``config.json`` and ``labels.json`` against theirs.

        A model saved before checksums existed is not checked.

        Raises:
            ConfigurationError: A model file is missing, changed or unexpected, or the config or
                labels were edited after the model was saved; the message names the file.
        """
        manifest = verify_checksums(self.model)
        if manifest is None:
            logger.debug("%s has no %s (saved by an older mtdnn): not verified", self.model, CHECKSUMS)
            return
        for name, recorded in manifest.get("run", {}).items():
            path = self.path / name
            if path.is_file() and sha256(path) != recorded:
                raise ConfigurationError(
                    f"{str(path)!r} was changed after the model was saved: the model was trained with "
                    "another version of it, so its predictions would no longer mean what they say",
                    hint="restore the file (e.g. from version control), or train again",
                )

    def recover(self) -> list[Path]:
        """Finish or undo writes that a crash interrupted: ``model/`` and every checkpoint.

        Returns:
            The leftover folders removed or put back.
        """
        touched = recover_interrupted(self.model)
        if self.checkpoints.is_dir():
            finals = {
                path.with_suffix("") for path in self.checkpoints.iterdir() if path.suffix in _LEFTOVERS
            }
            for final in sorted(finals):
                touched += recover_interrupted(final)
        return touched

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
        records = []
        for number, line in enumerate(self.metrics.read_text().splitlines(), start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except ValueError as exc:
                    raise ConfigurationError(
                        f"{str(self.metrics)!r} is damaged at line {number}: {exc}"
                    ) from exc
        return records

    def truncate_records(self, *, keep: int) -> None:
        """Keep the first ``keep`` records: those written after the checkpoint a run resumes from go."""
        if not self.metrics.is_file():
            return
        kept = self.read_records()[:keep]
        self.metrics.write_text("".join(json.dumps(record) + "\n" for record in kept))


_LEFTOVERS = (".tmp", ".old")


def _read_json(path: Path) -> Any:
    """A run file's JSON; a damaged one is a ConfigurationError naming it."""
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"{str(path)!r} is damaged: {exc}", hint="restore it, or train the run again"
        ) from exc


def sha256(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_checksums(folder: Path, **extra: Any) -> None:
    """Write ``folder/checksums.json``: the sha256 of every file below ``folder`` (and ``extra``)."""
    files = {
        path.relative_to(folder).as_posix(): sha256(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != CHECKSUMS
    }
    (folder / CHECKSUMS).write_text(json.dumps({"sha256": files, **extra}, indent=2) + "\n")


def verify_checksums(folder: Path) -> dict[str, Any] | None:
    """Check every file of ``folder`` against its ``checksums.json``; return the manifest.

    Returns:
        The manifest, or ``None`` when the folder has none (written before checksums existed).

    Raises:
        ConfigurationError: A recorded file is missing or its bytes changed, a file is there that
            was not written with the folder, or the manifest itself is unreadable.
    """
    path = folder / CHECKSUMS
    if not path.is_file():
        return None
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
        recorded: dict[str, str] = dict(manifest["sha256"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(f"{str(path)!r} is damaged ({exc})") from exc
    for name, digest in recorded.items():
        file = folder / name
        if not file.is_file():
            raise ConfigurationError(f"{str(file)!r} is missing (it was written with {str(folder)!r})")
        if sha256(file) != digest:
            raise ConfigurationError(
                f"{str(file)!r} is damaged: its sha256 differs from the one recorded when it was written"
            )
    extra = sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and path.name != CHECKSUMS and path.relative_to(folder).as_posix() not in recorded
    )
    if extra:
        raise ConfigurationError(
            f"{str(folder / extra[0])!r} was not written with {str(folder)!r} and is refused "
            "(a file added by hand may hold code that runs when it is loaded)"
        )
    return manifest


def recover_interrupted(target: Path) -> list[Path]:
    """Undo what a crash inside :func:`atomic_directory` left: ``TARGET.tmp`` and ``TARGET.old``.

    If ``target`` is gone, the complete previous version (``.old``) comes back, else a new
    version (``.tmp``) whose checksums all verify; whatever is left over is removed.

    Returns:
        The leftover folders found.
    """
    tmp, old = (target.with_name(target.name + suffix) for suffix in _LEFTOVERS)
    found = [path for path in (tmp, old) if path.exists()]
    if not target.exists():
        if old.is_dir():
            os.replace(old, target)
        elif tmp.is_dir() and _verifies(tmp):
            os.replace(tmp, target)
    for path in (tmp, old):
        shutil.rmtree(path, ignore_errors=True)
    if found:
        logger.warning("recovered from an interrupted write: %s", ", ".join(map(str, found)))
    return found


def _verifies(folder: Path) -> bool:
    try:
        return verify_checksums(folder) is not None
    except ConfigurationError:
        return False


FULL_BYTES = 64 * 1024**2
"""Free space below which a failed write is reported as a full device: libraries that write
through C++ streams (``torch.save``) report a full disk as an unspecific ``RuntimeError``."""


def _raise_if_full(target: Path, error: Exception) -> None:
    try:
        free = shutil.disk_usage(target.parent).free
    except OSError:
        return
    if free < FULL_BYTES:
        reason = f"No space left on device ({free // 1024} KiB free)"
        raise OSError(errno.ENOSPC, reason, str(target)) from error


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
            if isinstance(exc, Exception) and not isinstance(exc, OSError):
                _raise_if_full(self.target, exc)
            return
        old = self.target.with_name(self.target.name + ".old")
        if self.target.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(self.target, old)
        os.replace(self.tmp, self.target)
        shutil.rmtree(old, ignore_errors=True)
