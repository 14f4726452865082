"""``metrics.jsonl``: one JSON line per evaluation, appended as training goes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["append_record", "read_records", "truncate_records"]


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append one evaluation record."""
    with path.open("a") as stream:
        stream.write(json.dumps(record) + "\n")


def read_records(path: Path) -> list[dict[str, Any]]:
    """All records of ``path`` (an empty list if it does not exist)."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def truncate_records(path: Path, *, keep: int) -> None:
    """Keep the first ``keep`` records: those written after the checkpoint a run resumes from go."""
    if not path.is_file():
        return
    kept = read_records(path)[:keep]
    path.write_text("".join(json.dumps(record) + "\n" for record in kept))
