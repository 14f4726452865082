"""Checks of config values that components of different layers share."""

from __future__ import annotations

from mtdnn.errors import ConfigurationError

__all__ = ["check_range"]


def check_range(value: tuple[float, float] | None, *, path: str) -> None:
    """Check a ``normalize`` range: ``None`` or ``[low, high]`` with ``low < high``.

    Args:
        value: The range to check.
        path: The key of ``value``, relative to the component being built (``normalize``).

    Raises:
        ConfigurationError: ``high`` is not above ``low``.
    """
    if value is not None and not value[0] < value[1]:
        raise ConfigurationError(
            f"normalize must be [low, high] with low < high, got {list(value)}",
            path=path,
            hint="e.g. normalize: [0, 5] for STS-B scores",
        )
