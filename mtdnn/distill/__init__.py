"""Knowledge distillation: soft targets, from a file or from teachers online, and objectives using them."""

from __future__ import annotations

from mtdnn.distill.objectives import (
    BamObjective,
    DistillationObjective,
    HintonObjective,
    MseLogitsObjective,
    MtdnnKdObjective,
)
from mtdnn.distill.online import OnlineTeachers, Teacher
from mtdnn.distill.targets import SoftTargets, TaskTargets, combine_teachers

__all__ = [
    "BamObjective",
    "DistillationObjective",
    "HintonObjective",
    "MseLogitsObjective",
    "MtdnnKdObjective",
    "OnlineTeachers",
    "SoftTargets",
    "TaskTargets",
    "Teacher",
    "combine_teachers",
]
