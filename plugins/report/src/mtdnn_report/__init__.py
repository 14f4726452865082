"""A command that prints the best dev scores of runs side by side (`mtdnn report`)."""

from __future__ import annotations

__version__ = "0.1.0"
