"""mtdnn-bio: the biomedical domain for mtdnn, installed and found as an ordinary mtdnn plugin."""

from __future__ import annotations

__version__ = "0.1.0"
