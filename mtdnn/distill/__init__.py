"""Knowledge distillation: soft-target files and the objectives that learn from them."""

from __future__ import annotations

from mtdnn.distill.objectives import (
    BamObjective,
    DistillationObjective,
    HintonObjective,
    MseLogitsObjective,
    MtdnnKdObjective,
)
from mtdnn.distill.targets import SoftTargets, TaskTargets, combine_teachers

__all__ = [
    "BamObjective",
    "DistillationObjective",
    "HintonObjective",
    "MseLogitsObjective",
    "MtdnnKdObjective",
    "SoftTargets",
    "TaskTargets",
    "combine_teachers",
]
