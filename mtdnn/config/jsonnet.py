"""Evaluate jsonnet experiment configs: top-level arguments in, a JSON object out."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import _jsonnet

from mtdnn.errors import ConfigurationError

__all__ = ["evaluate_config", "library_dir", "parse_tla_pairs"]

logger = logging.getLogger(__name__)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_FRAMES = 8
_NOISE_FRAMES = ("During manifestation", "During evaluation")


def library_dir() -> Path | None:
    """Return the checkout's ``configs/lib`` directory of shared ``.libsonnet`` files, if it exists."""
    lib = Path(__file__).resolve().parents[2] / "configs" / "lib"
    return lib if lib.is_dir() else None


def _import_dirs(import_paths: Sequence[str | Path]) -> list[str]:
    """Return the jsonnet library search path: ``configs/lib`` first, then ``import_paths``."""
    dirs: list[str] = []
    lib = library_dir()
    if lib is not None:
        dirs.append(str(lib))
    for entry in import_paths:
        if not Path(entry).is_dir():
            raise ConfigurationError(
                f"jsonnet import path {str(entry)!r} is not a directory",
                hint="import paths are directories searched for imported .libsonnet files",
            )
        dirs.append(str(entry))
    return dirs


def _clean_error(text: str) -> tuple[str, str]:
    """Turn jsonnet's error text into a short message (keeping ``file:line:col``) and its first line."""
    lines = [line.strip().replace("\t", " ") for line in text.strip().splitlines()]
    first = lines[0] if lines else "unknown error"
    for prefix, kind in (("STATIC ERROR: ", "static error"), ("RUNTIME ERROR: ", "runtime error")):
        if first.startswith(prefix):
            first = f"{kind}: {first[len(prefix) :]}"
    frames = [line for line in lines[1:] if line and not line.startswith(_NOISE_FRAMES)]
    shown = frames[:_MAX_FRAMES]
    if len(frames) > len(shown):
        shown.append(f"... ({len(frames) - len(shown)} more frames)")
    return "\n".join([first, *(f"    {frame}" for frame in shown)]), first


def _error_hint(first_line: str, search_path: list[str]) -> str | None:
    """Return advice for the jsonnet errors users most often meet."""
    if "external variable" in first_line:
        return (
            "configs cannot read external or environment variables; make the value a top-level "
            "argument (a function parameter with a default) and pass it as a TLA"
        )
    if "couldn't open import" in first_line:
        searched = ", ".join(search_path) if search_path else "(none)"
        return f"imports are looked up next to the importing file, then in: {searched}"
    if "has no parameter" in first_line:
        return "top-level argument names must match the parameters of the config's top-level function"
    if "not bound" in first_line:
        return "give a top-level argument for each parameter of the config's function that has no default"
    return None


def _is_function(file: Path, search_path: list[str]) -> bool:
    """Return whether ``file`` evaluates to a function (its fields are not evaluated)."""
    literal = str(file.resolve()).replace("'", "''")
    result = _jsonnet.evaluate_snippet(
        "<is-function>", f"std.isFunction(import @'{literal}')", jpathdir=search_path
    )
    return bool(json.loads(result))


def evaluate_config(
    path: str | Path,
    *,
    tla_str: dict[str, str] | None = None,
    tla_code: dict[str, str] | None = None,
    import_paths: Sequence[str | Path] = (),
) -> dict[str, Any]:
    """Evaluate a jsonnet (or plain JSON) config file to a JSON object.

    A config that is a function receives ``tla_str`` and ``tla_code`` as its arguments; parameters not
    given keep their defaults. No external variables and no environment variables reach the config.
    Imports are looked up next to the importing file, then in the checkout's ``configs/lib`` and in
    ``import_paths`` (when a file is in several directories, the last directory listed wins).

    Args:
        path: The config file.
        tla_str: Top-level arguments passed as strings (``{"encoder": "bert-base-uncased"}``).
        tla_code: Top-level arguments passed as jsonnet code (``{"seed": "7"}``).
        import_paths: Extra directories searched by ``import`` (plugins' ``.libsonnet`` files).

    Returns:
        The evaluated config.

    Raises:
        ConfigurationError: The file is missing, jsonnet fails (the message keeps jsonnet's
            ``file:line:col``), top-level arguments are given to a config that is not a function, or
            the result is not a JSON object.
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigurationError(f"config file not found: {file}", hint="check the path to the config file")
    search_path = _import_dirs(import_paths)
    tla_vars, tla_codes = dict(tla_str or {}), dict(tla_code or {})
    try:
        text = _jsonnet.evaluate_file(str(file), jpathdir=search_path, tla_vars=tla_vars, tla_codes=tla_codes)
        if (tla_vars or tla_codes) and not _is_function(file, search_path):
            names = ", ".join(sorted([*tla_vars, *tla_codes]))
            raise ConfigurationError(
                f"{file} is not a function, so its top-level arguments ({names}) would be ignored",
                hint="write the config as `function(name=default) { ... }` or drop the arguments",
            )
    except RuntimeError as exc:
        message, first = _clean_error(str(exc))
        raise ConfigurationError(
            f"cannot evaluate {file}: {message}", hint=_error_hint(first, search_path)
        ) from exc
    config = json.loads(text)
    if not isinstance(config, dict):
        raise ConfigurationError(
            f"{file} must evaluate to a JSON object, got {type(config).__name__}",
            hint="the top level of a config is an object such as { tasks: {...}, trainer: {...} }",
        )
    logger.debug("evaluated %s with TLAs %s", file, sorted([*tla_vars, *tla_codes]))
    return config


def parse_tla_pairs(pairs: Sequence[str], *, option: str) -> dict[str, str]:
    """Parse ``NAME=VALUE`` strings (from a command-line option) into a dict.

    Args:
        pairs: The strings, each ``NAME=VALUE``; the value may contain ``=``.
        option: The option they came from (``--tla-str``), named in error messages.

    Returns:
        A dict from name to value, in the order given.

    Raises:
        ConfigurationError: A string has no ``=``, the name is not a jsonnet identifier, or a name is
            given twice.
    """
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ConfigurationError(
                f"{option} expects NAME=VALUE, got {pair!r} (no '=')",
                hint=f"write {option} {pair}=VALUE",
            )
        if not _IDENTIFIER.match(name):
            raise ConfigurationError(
                f"{option} got an invalid argument name {name!r} in {pair!r}",
                hint="names are jsonnet identifiers: letters, digits and '_', not starting with a digit",
            )
        if name in result:
            raise ConfigurationError(f"{option} gives {name!r} twice", hint="give each argument once")
        result[name] = value
    return result
