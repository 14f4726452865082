"""Focal loss for imbalanced classification (the `focal` loss)."""

from __future__ import annotations

__version__ = "0.1.0"
