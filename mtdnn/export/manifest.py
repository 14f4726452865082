"""``export.json``: what an export directory holds and how its outputs are decoded.

It is written by :mod:`mtdnn.export.onnx` and read by the torch-free runtime. Fields (version 1):

- ``format``: ``"mtdnn-onnx"``; ``version``: 1; ``mtdnn``: the version that wrote it.
- ``graph``: the ONNX file; ``precision``: ``fp32`` or ``int8``.
- ``source``: the run directory it came from and its config hash.
- ``tokenization``: ``file`` (the ``tokenizers`` JSON), ``pad_id``, ``padding_side`` and
  ``truncation_side`` (``left``/``right``), ``unknown_id``, ``has_types`` (whether the graph takes
  ``token_type_ids``), and ``layouts``: the special tokens (id, token type) the tokenizer puts
  around one sequence (``single``) and a pair (``pair``).
- ``tasks``: per task, ``type`` (the head's registered name), ``output`` (the graph output's
  name), ``labels`` (in id order, or ``null``), ``max_length``, ``decoding`` (the head's
  ``export_decoding``: how scores become predictions outside the graph) and, optionally,
  ``pairs`` (``true``: each input is a pair of texts; ``false``: one text; ``null``: either).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from mtdnn.errors import ConfigurationError
from mtdnn.portable.layout import Layout

__all__ = ["ExportManifest", "ExportedTask", "Tokenization", "read_manifest"]

VERSION = 1


@dataclass(frozen=True)
class ExportedTask:
    """One exported task.

    Args:
        name: The task's name.
        type: The head's registered name (``classification``, ``tagging``, ...).
        output: The graph output holding its scores.
        labels: Label names in id order (``None`` for real values).
        max_length: Longest row, in tokens, as in training.
        decoding: The head's ``export_decoding``.
        pairs: Whether each input is a pair of texts (``True``), one text (``False``) or either
            (``None``), as the task's reader says; raw inputs are checked against it.
    """

    name: str
    type: str
    output: str
    labels: list[str] | None
    max_length: int
    decoding: dict[str, Any]
    pairs: bool | None = None

    def to_json(self) -> dict[str, Any]:
        """The task's entry in ``export.json``."""
        return {
            "type": self.type,
            "output": self.output,
            "labels": self.labels,
            "max_length": self.max_length,
            "decoding": self.decoding,
            "pairs": self.pairs,
        }


@dataclass(frozen=True)
class Tokenization:
    """How the runtime turns text into the graph's inputs (see the module docstring)."""

    file: str
    pad_id: int
    padding_side: str
    truncation_side: str
    unknown_id: int
    has_types: bool
    layouts: dict[bool, Layout]

    def to_json(self) -> dict[str, Any]:
        """The ``tokenization`` entry of ``export.json``."""
        return {
            "file": self.file,
            "pad_id": self.pad_id,
            "padding_side": self.padding_side,
            "truncation_side": self.truncation_side,
            "unknown_id": self.unknown_id,
            "has_types": self.has_types,
            "layouts": {
                "pair" if pair else "single": {
                    "parts": [[[list(token) for token in specials], kind] for specials, kind in layout.parts],
                    "has_types": layout.has_types,
                }
                for pair, layout in self.layouts.items()
            },
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Tokenization:
        """Read the ``tokenization`` entry (``KeyError``/``TypeError``/``ValueError`` where malformed)."""
        layouts = {
            name == "pair": Layout(
                parts=tuple(
                    (tuple((int(token), int(kind)) for token, kind in specials), int(segment))
                    for specials, segment in layout["parts"]
                ),
                has_types=bool(layout["has_types"]),
            )
            for name, layout in value["layouts"].items()
        }
        sides = (value["padding_side"], value["truncation_side"])
        if any(side not in ("left", "right") for side in sides) or set(layouts) != {False, True}:
            raise ValueError("bad padding or truncation side, or layouts other than 'single' and 'pair'")
        return cls(
            file=str(value["file"]),
            pad_id=int(value["pad_id"]),
            padding_side=value["padding_side"],
            truncation_side=value["truncation_side"],
            unknown_id=int(value["unknown_id"]),
            has_types=bool(value["has_types"]),
            layouts=layouts,
        )


@dataclass(frozen=True)
class ExportManifest:
    """The contents of ``export.json``."""

    FILE: ClassVar[str] = "export.json"

    graph: str
    precision: str
    tokenization: Tokenization
    tasks: dict[str, ExportedTask]
    source: dict[str, Any]
    mtdnn: str

    def to_json(self) -> dict[str, Any]:
        """The whole ``export.json`` object."""
        return {
            "format": "mtdnn-onnx",
            "version": VERSION,
            "mtdnn": self.mtdnn,
            "graph": self.graph,
            "precision": self.precision,
            "source": self.source,
            "tokenization": self.tokenization.to_json(),
            "tasks": {name: task.to_json() for name, task in sorted(self.tasks.items())},
        }

    def write(self, directory: Path) -> Path:
        """Write ``export.json`` into ``directory``; return its path."""
        path = directory / self.FILE
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return path


def read_manifest(directory: Path) -> ExportManifest:
    """Read and check ``directory/export.json``.

    Raises:
        ConfigurationError: It is missing, not JSON, of another format or version, or malformed
            (the message says where).
    """
    path = directory / ExportManifest.FILE
    if not path.is_file():
        raise ConfigurationError(
            f"{str(directory)!r} is not an export: it has no {ExportManifest.FILE}",
            hint="write one with `mtdnn export RUN_DIR -o DIR`",
        )
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"cannot read {str(path)!r}: {exc}") from exc
    if not isinstance(value, dict) or value.get("format") != "mtdnn-onnx":
        raise ConfigurationError(f"{str(path)!r} is not an mtdnn export manifest")
    if value.get("version") != VERSION:
        raise ConfigurationError(
            f"{str(path)!r} has version {value.get('version')!r}; this mtdnn reads version {VERSION}",
            hint="export the run again with this mtdnn",
        )
    try:
        tasks = {
            str(name): ExportedTask(
                name=str(name),
                type=str(task["type"]),
                output=str(task["output"]),
                labels=None if task["labels"] is None else [str(label) for label in task["labels"]],
                max_length=int(task["max_length"]),
                decoding=dict(task["decoding"]),
                pairs=_pairs(task.get("pairs")),
            )
            for name, task in value["tasks"].items()
        }
        return ExportManifest(
            graph=str(value["graph"]),
            precision=str(value["precision"]),
            tokenization=Tokenization.from_json(value["tokenization"]),
            tasks=tasks,
            source=dict(value.get("source") or {}),
            mtdnn=str(value.get("mtdnn", "")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigurationError(f"{str(path)!r} is malformed: {exc!r}") from exc


def _pairs(value: Any) -> bool | None:
    """The optional ``pairs`` of a task entry (absent in exports written before it existed)."""
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"pairs must be true, false or null, got {value!r}")
