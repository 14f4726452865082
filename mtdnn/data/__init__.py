"""Featurization and batching of task data."""

from __future__ import annotations

from mtdnn.data.batching import batch_indices, make_batch
from mtdnn.data.dataset import TaskData, load_task_data

__all__ = ["TaskData", "batch_indices", "load_task_data", "make_batch"]
