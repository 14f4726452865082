"""The pluggy markers of the ``mtdnn`` project; plugins import ``hookimpl`` from ``mtdnn``."""

from __future__ import annotations

import pluggy

PROJECT = "mtdnn"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
