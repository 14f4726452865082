"""Featurization and batching of task data."""

from __future__ import annotations

from mtdnn.data.batching import batch_indices, make_batch
from mtdnn.data.dataset import TaskData, featurize_examples, load_task_data, read_examples

__all__ = ["TaskData", "batch_indices", "featurize_examples", "load_task_data", "make_batch", "read_examples"]
