"""Build objects from JSON-like config values, using constructor type hints as the schema."""

from __future__ import annotations

import dataclasses
import difflib
import enum
import inspect
import logging
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any, Literal, TypeVar, Union, cast

from mtdnn.errors import ConfigurationError
from mtdnn.registry import Registry, qualified_name

__all__ = ["accepted_keys", "build", "type_text"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_UNION_ORIGINS: tuple[object, ...] = (Union, types.UnionType)
_LIST_ORIGINS: tuple[object, ...] = (list, Sequence)
_DICT_ORIGINS: tuple[object, ...] = (dict, Mapping)


@dataclasses.dataclass(frozen=True)
class _Param:
    """One keyword a constructor accepts: its name, type hint and default."""

    name: str
    hint: Any
    default: Any

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty


@dataclasses.dataclass(frozen=True)
class _Context:
    """What every nested build needs: the registry and the runtime extras."""

    registry: Registry
    extras: Mapping[str, Any]


def type_text(hint: Any) -> str:
    """Return a short readable spelling of a type hint (``list[int]``, ``SanHead | None``).

    Args:
        hint: A type hint as returned by :func:`typing.get_type_hints`.

    Returns:
        The hint as text, with classes shown by their plain name.
    """
    if hint is Any or hint is inspect.Parameter.empty:
        return "Any"
    if hint is None or hint is type(None):
        return "None"
    if hint is Ellipsis:
        return "..."
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in _UNION_ORIGINS:
        return " | ".join(type_text(arg) for arg in args)
    if origin is Literal:
        return f"Literal[{', '.join(repr(arg) for arg in args)}]"
    if origin is not None and args:
        return f"{type_text(origin)}[{', '.join(type_text(arg) for arg in args)}]"
    if isinstance(hint, type):
        return hint.__name__
    return str(hint).removeprefix("typing.")


def _parameters(cls: type) -> list[_Param]:
    """Return the keyword parameters of ``cls``'s constructor, or raise if they cannot be configured."""
    init = cls.__init__  # type: ignore[misc]
    if init is object.__init__:
        return []
    try:
        hints = typing.get_type_hints(init)
        signature = inspect.signature(init)
    except Exception as exc:  # a bad forward reference is a bug in the component, reported with its name
        raise ConfigurationError(
            f"cannot read the constructor signature of {qualified_name(cls)}: {exc}",
            hint="every annotation must name something importable from the class's module",
        ) from exc
    params: list[_Param] = []
    for index, param in enumerate(signature.parameters.values()):
        if index == 0:  # self
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ConfigurationError(
                f"{qualified_name(cls)} cannot be built from a config: its constructor takes "
                f"{'*' if param.kind is param.VAR_POSITIONAL else '**'}{param.name}",
                hint="list every parameter explicitly in the signature; it is the config schema",
            )
        if param.kind is param.POSITIONAL_ONLY:
            raise ConfigurationError(
                f"{qualified_name(cls)} cannot be built from a config: parameter {param.name!r} is "
                "positional-only",
            )
        params.append(_Param(param.name, hints.get(param.name, Any), param.default))
    return params


def accepted_keys(cls: type) -> dict[str, str]:
    """Return the config keys ``cls`` accepts, in signature order, with their types as text.

    Args:
        cls: A class whose constructor is its config schema.

    Returns:
        A dict from key to type text (``{"turns": "int", "dropout": "float"}``).

    Raises:
        ConfigurationError: The constructor takes ``*args``/``**kwargs`` or its hints cannot be read.
    """
    return {param.name: type_text(param.hint) for param in _parameters(cls)}


def describe_parameters(cls: type) -> list[tuple[str, str, str | None]]:
    """Each config key of ``cls``: its name, its type as text and its default (``None``: required).

    Raises:
        ConfigurationError: As :func:`accepted_keys`.
    """
    return [
        (param.name, type_text(param.hint), None if param.required else repr(param.default))
        for param in _parameters(cls)
    ]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _describe_keys(params: list[_Param], skip: Mapping[str, Any]) -> str:
    """Return ``name: type (required|default ...)`` for each key a config may set."""
    parts = []
    for param in params:
        if param.name in skip:
            continue
        note = "required" if param.required else f"default {param.default!r}"
        parts.append(f"{param.name}: {type_text(param.hint)} ({note})")
    return ", ".join(parts) if parts else "(none)"


def _class_text(ctx: _Context, cls: type) -> str:
    """Return ``head 'san' (pkg.SanHead)`` for a registered class, else its qualified name."""
    for kind_name, kind in ctx.registry.kinds().items():
        if issubclass(cls, kind):
            for name, other in ctx.registry.items(kind):
                if other is cls:
                    return f"{kind_name} {name!r} ({qualified_name(cls)})"
    return qualified_name(cls)


def _mismatch(expected: Any, value: Any, path: str, advice: str | None = None) -> ConfigurationError:
    """Return the error for a value of the wrong type, naming the expected type and the value."""
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return ConfigurationError(
        f"expected {type_text(expected)}, got {type(value).__name__} {shown}", path=path, hint=advice
    )


def build(registry: Registry, kind: type[T], params: Any, /, *, path: str, **extras: Any) -> T:
    """Build an object of ``kind`` from a config value.

    For a registered kind, ``params`` is an object whose ``type`` key names the class (a bare string is
    shorthand for ``{"type": name}``); for any other class it is an object of constructor arguments.
    Each argument is converted by its type hint, building nested components the same way.

    Args:
        registry: Where ``type`` names are looked up.
        kind: A registered kind (``Head``) or a plain class.
        params: The config value (usually a dict from the evaluated jsonnet).
        path: Dotted config path of ``params``, used in error messages (``tasks.sst2.head``).
        **extras: Runtime values (``input_dim``, ``num_labels``); each constructor, nested ones
            included, receives those it declares. A config may not set them.

    Returns:
        The built object.

    Raises:
        ConfigurationError: The config does not fit the constructors; the message names the path.
    """
    return cast(T, _build(_Context(registry, extras), kind, params, path))


def _build(ctx: _Context, kind: type, params: Any, path: str) -> Any:
    """Build one object of ``kind`` from ``params``, resolving ``type`` for registered kinds."""
    if isinstance(params, kind):
        return params
    if ctx.registry.is_kind(kind):
        kind_name = ctx.registry.kind_name(kind)
        available = f"available: {', '.join(ctx.registry.names(kind)) or '(none)'}"
        if isinstance(params, str):
            return _construct(ctx, ctx.registry.resolve(kind, params, path=path), {}, path)
        if not isinstance(params, Mapping):
            raise ConfigurationError(
                f"expected a {kind_name}: an object with a 'type' key or a {kind_name} name, "
                f"got {type(params).__name__} {params!r}",
                path=path,
                hint=available,
            )
        if "type" not in params:
            raise ConfigurationError(
                f"missing key 'type' (which {kind_name} to build)",
                path=path,
                hint=available,
            )
        cls = ctx.registry.resolve(kind, params["type"], path=_join(path, "type"))
        return _construct(ctx, cls, {k: v for k, v in params.items() if k != "type"}, path)
    if not isinstance(params, Mapping):
        raise _mismatch(
            kind, params, path, advice=f"give an object of constructor arguments for {kind.__name__}"
        )
    return _construct(ctx, kind, params, path)


def _check_keys(ctx: _Context, cls: type, params: list[_Param], config: Mapping[str, Any], path: str) -> None:
    """Raise if ``config`` has keys the constructor does not take or that extras supply."""
    names = [param.name for param in params]
    configurable = [name for name in names if name not in ctx.extras]
    unknown = [key for key in config if key not in names]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(str(key), configurable, n=1)
        suggestion = f"did you mean {close[0]!r}? " if close else ""
        if key == "type":
            suggestion = f"{cls.__name__} is not a registered kind, so it takes no 'type'; "
        listed = ", ".join(repr(k) for k in unknown)
        plural = "s" if len(unknown) > 1 else ""
        raise ConfigurationError(
            f"unknown key{plural} {listed} for {_class_text(ctx, cls)}"
            if path
            else f"unknown top-level key{plural} {listed}",
            path=_join(path, str(key)),
            hint=f"{suggestion}accepted keys: {_describe_keys(params, ctx.extras)}",
        )
    for key in config:
        if key in ctx.extras:
            raise ConfigurationError(
                f"key {key!r} is supplied at runtime and must be removed from the config",
                path=_join(path, key),
                hint=f"{_class_text(ctx, cls)} receives {key!r} from the program, not the config",
            )


def _construct(ctx: _Context, cls: type, config: Mapping[str, Any], path: str) -> Any:
    """Call ``cls`` with arguments converted from ``config``, extras and defaults."""
    params = _parameters(cls)
    _check_keys(ctx, cls, params, config, path)
    kwargs: dict[str, Any] = {}
    for param in params:
        if param.name in config:
            kwargs[param.name] = _convert(ctx, param.hint, config[param.name], _join(path, param.name))
        elif param.name in ctx.extras:
            kwargs[param.name] = ctx.extras[param.name]
        elif param.required:
            raise ConfigurationError(
                f"missing required key {param.name!r} for {_class_text(ctx, cls)}"
                if path
                else f"missing required top-level key {param.name!r}",
                path=path,
                hint=f"accepted keys: {_describe_keys(params, ctx.extras)}",
            )
    try:
        return cls(**kwargs)
    except ConfigurationError as exc:  # the constructor names its own key; put it where it sits
        raise exc.under(path) from exc


def _convert(ctx: _Context, hint: Any, value: Any, path: str) -> Any:
    """Convert a config value to ``hint``, building nested objects; raise naming ``path`` if it cannot."""
    if hint is Any or hint is inspect.Parameter.empty:
        return value
    if hint is None or hint is type(None):
        if value is None:
            return None
        raise _mismatch(hint, value, path)
    origin = typing.get_origin(hint)
    if origin in _UNION_ORIGINS:
        return _convert_union(ctx, hint, value, path)
    if origin is Literal:
        return _convert_literal(hint, value, path)
    if origin in _LIST_ORIGINS or origin is tuple or hint in (list, tuple):
        return _convert_sequence(ctx, hint, value, path)
    if origin in _DICT_ORIGINS or hint is dict:
        return _convert_mapping(ctx, hint, value, path)
    if origin is not None or not isinstance(hint, type):
        raise ConfigurationError(f"cannot build a value of type {type_text(hint)} from a config", path=path)
    return _convert_class(ctx, hint, value, path)


def _convert_class(ctx: _Context, hint: type, value: Any, path: str) -> Any:
    """Convert to a plain class hint: a scalar, a path, an enum, a component or a nested object."""
    if ctx.registry.is_kind(hint):
        return _build(ctx, hint, value, path)
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise _mismatch(hint, value, path, advice="use true or false")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise _mismatch(hint, value, path)
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise _mismatch(hint, value, path)
    if hint is str:
        if isinstance(value, str):
            return value
        raise _mismatch(hint, value, path)
    if issubclass(hint, PurePath):
        if isinstance(value, (str, PurePath)):
            return hint(value)
        raise _mismatch(hint, value, path, advice="give the path as a string")
    if issubclass(hint, enum.Enum):
        return _convert_enum(hint, value, path)
    if isinstance(value, hint):
        return value
    if isinstance(value, Mapping):
        return _build(ctx, hint, value, path)
    raise _mismatch(hint, value, path)


def _convert_enum(hint: type[enum.Enum], value: Any, path: str) -> Any:
    """Convert a value (or member name) to a member of an enum."""
    if isinstance(value, hint):
        return value
    for member in hint:
        if member.value == value and type(member.value) is type(value):
            return member
    choices = [repr(member.value) for member in hint]
    raise _mismatch(hint, value, path, advice=f"choose one of {', '.join(choices)}")


def _convert_union(ctx: _Context, hint: Any, value: Any, path: str) -> Any:
    """Convert to the first member of a union that accepts the value (``None`` for Optional)."""
    members = typing.get_args(hint)
    if value is None and type(None) in members:
        return None
    candidates = [member for member in members if member is not type(None)]
    if len(candidates) == 1:
        return _convert(ctx, candidates[0], value, path)
    errors: list[ConfigurationError] = []
    for member in candidates:
        try:
            return _convert(ctx, member, value, path)
        except ConfigurationError as exc:
            errors.append(exc)
    # An error from inside a member means the value had that member's shape: that error is the news.
    # A 'type' key marks a component, so registered kinds win over plain classes then.
    deeper = [(member, exc) for member, exc in zip(candidates, errors, strict=True) if exc.path != path]
    if isinstance(value, Mapping) and "type" in value:
        deeper = [pair for pair in deeper if ctx.registry.is_kind(pair[0])] or deeper
    if len(deeper) == 1:
        raise deeper[0][1]
    reasons = "; ".join(
        f"as {type_text(member)}: {exc.message}" for member, exc in zip(candidates, errors, strict=True)
    )
    raise _mismatch(hint, value, path, advice=f"no member of the union fits ({reasons})")


def _convert_literal(hint: Any, value: Any, path: str) -> Any:
    """Return ``value`` if it is one of the literal's choices (compared with type), else raise."""
    choices = typing.get_args(hint)
    for choice in choices:
        if choice == value and type(choice) is type(value):
            return choice
    listed = ", ".join(repr(choice) for choice in choices)
    suggestion = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value, [c for c in choices if isinstance(c, str)], n=1)
        suggestion = f"did you mean {close[0]!r}? " if close else ""
    raise ConfigurationError(
        f"invalid value {value!r}", path=path, hint=f"{suggestion}choose one of {listed}"
    )


def _convert_sequence(ctx: _Context, hint: Any, value: Any, path: str) -> Any:
    """Convert a JSON array to ``list[T]``, ``Sequence[T]``, ``tuple[T, ...]`` or ``tuple[A, B]``."""
    if not isinstance(value, (list, tuple)):
        raise _mismatch(hint, value, path, advice="give a list")
    args = typing.get_args(hint)
    origin = typing.get_origin(hint) or hint
    if origin is tuple:
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            item = args[0] if args else Any
            return tuple(_convert(ctx, item, v, f"{path}[{i}]") for i, v in enumerate(value))
        if args == ((),):  # tuple[()]
            args = ()
        if len(value) != len(args):
            raise _mismatch(hint, value, path, advice=f"give a list of exactly {len(args)} items")
        return tuple(
            _convert(ctx, a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True))
        )
    item = args[0] if args else Any
    return [_convert(ctx, item, v, f"{path}[{i}]") for i, v in enumerate(value)]


def _convert_mapping(ctx: _Context, hint: Any, value: Any, path: str) -> dict[Any, Any]:
    """Convert a JSON object to ``dict[K, V]`` (or ``Mapping[K, V]``), converting keys and values."""
    if not isinstance(value, Mapping):
        raise _mismatch(hint, value, path, advice="give an object")
    args = typing.get_args(hint)
    key_hint, value_hint = args if len(args) == 2 else (Any, Any)
    result: dict[Any, Any] = {}
    for key, item in value.items():
        item_path = _join(path, str(key))
        result[_convert(ctx, key_hint, key, item_path)] = _convert(ctx, value_hint, item, item_path)
    return result
