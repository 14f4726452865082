"""Checks of config values that components of different layers share."""

from __future__ import annotations

import math

from mtdnn.errors import ConfigurationError

__all__ = ["check_number", "check_probability", "check_range"]


def check_number(
    value: float | None,
    *,
    path: str,
    above: float | None = None,
    at_least: float | None = None,
    below: float | None = None,
    at_most: float | None = None,
    integer: bool = False,
    hint: str | None = None,
) -> None:
    """Check a numeric setting: a finite number (an integer where asked) within its bounds.

    ``None`` passes (the setting is off). Booleans are refused: ``true`` is not a number.

    Args:
        value: The value to check.
        path: The key of ``value``, relative to the component being built (``grad_clip``).
        above: ``value`` must be greater than this.
        at_least: ``value`` must be at least this.
        below: ``value`` must be less than this.
        at_most: ``value`` must be at most this.
        integer: ``value`` must be a whole number.
        hint: How to choose it, for the message.

    Raises:
        ConfigurationError: ``value`` is not a number, not finite, not whole where it must be,
            or out of bounds; the message says which bound.
    """
    if value is None:
        return
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"{path} must be {kind}, got {value!r}", path=path, hint=hint)
    if integer and not isinstance(value, int):
        raise ConfigurationError(f"{path} must be {kind}, got {value!r}", path=path, hint=hint)
    if not math.isfinite(value):
        raise ConfigurationError(f"{path} must be a finite number, got {value}", path=path, hint=hint)
    bounds = [
        (above, value > above if above is not None else True, f"greater than {above}"),
        (at_least, value >= at_least if at_least is not None else True, f"at least {at_least}"),
        (below, value < below if below is not None else True, f"less than {below}"),
        (at_most, value <= at_most if at_most is not None else True, f"at most {at_most}"),
    ]
    for bound, holds, words in bounds:
        if bound is not None and not holds:
            raise ConfigurationError(f"{path} must be {words}, got {value}", path=path, hint=hint)


def check_probability(value: float, *, path: str) -> None:
    """Check a dropout-like probability: a number in ``[0, 1)`` (1 would drop everything)."""
    check_number(value, path=path, at_least=0.0, below=1.0, hint="a probability such as 0.1")


def check_range(value: tuple[float, float] | None, *, path: str, hint: str | None = None) -> None:
    """Check a range setting: ``None`` or ``[low, high]`` of finite numbers with ``low < high``.

    Args:
        value: The range to check.
        path: The key of ``value``, relative to the component being built (``normalize``).
        hint: An example, for the message (by default STS-B's ``[0, 5]``).

    Raises:
        ConfigurationError: A bound is not a finite number, or ``high`` is not above ``low``.
    """
    if value is None:
        return
    example = hint or f"e.g. {path}: [0, 5] for STS-B scores"
    for bound in value:
        check_number(bound, path=path, hint=example)
    if not value[0] < value[1]:
        raise ConfigurationError(
            f"{path} must be [low, high] with low < high, got {list(value)}", path=path, hint=example
        )
