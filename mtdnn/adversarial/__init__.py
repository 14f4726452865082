"""Adversarial training objectives: SMART (with its proximal term), FreeLB, FGM and PGD.

Each wraps an inner objective on the training-step seam (:mod:`mtdnn.training.objective`) and
perturbs the word embeddings of the encoder (:meth:`~mtdnn.encoders.base.Encoder.embed`).
"""

from __future__ import annotations

from mtdnn.adversarial.base import AdversarialObjective
from mtdnn.adversarial.embedding_matrix import FgmObjective, PgdObjective
from mtdnn.adversarial.freelb import FreeLbObjective
from mtdnn.adversarial.smart import ProximalObjective, SmartObjective

__all__ = [
    "AdversarialObjective",
    "FgmObjective",
    "FreeLbObjective",
    "PgdObjective",
    "ProximalObjective",
    "SmartObjective",
]
