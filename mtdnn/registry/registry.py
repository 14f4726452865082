"""The component registry: which class each config ``type`` name stands for."""

from __future__ import annotations

import difflib
import logging
import re

from mtdnn.errors import ConfigurationError

__all__ = ["NAME_PATTERN", "Registry", "qualified_name"]

logger = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
"""Registered names and kind names are snake_case: lower-case words joined by single underscores."""


def qualified_name(cls: type) -> str:
    """Return the module-qualified name of a class, as error messages show it.

    Args:
        cls: Any class.

    Returns:
        ``module.QualName`` (``mtdnn.heads.san.SanHead``).
    """
    return f"{cls.__module__}.{cls.__qualname__}"


def _provenance(cls: type) -> str:
    """``module.Class`` and, when known, the installed distribution that provides it."""
    top = cls.__module__.split(".")[0]
    try:
        from importlib.metadata import packages_distributions

        distributions = packages_distributions().get(top, [])
    except Exception:  # metadata of some installed package is broken: leave the distribution out
        distributions = []
    shown = qualified_name(cls)
    return f"{shown} (from {', '.join(sorted(set(distributions)))})" if distributions else shown


def _prefixed(cls: type, name: str) -> str:
    """A name for ``cls`` that cannot clash with another package's: its top module's name first."""
    top = cls.__module__.split(".")[0].removeprefix("mtdnn_")
    return f"{top}_{name}"


def _check_name(name: object, what: str) -> str:
    """Return ``name`` if it is a valid snake_case name, else raise."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ConfigurationError(
            f"invalid {what} {name!r}",
            hint="names are snake_case: lower-case letters and digits in words joined by single "
            "underscores, starting with a letter (e.g. 'sequence_labeling')",
        )
    return name


def _suggest(word: str, choices: list[str]) -> str:
    """Return a hint with a did-you-mean suggestion (when one is close) and the choices."""
    available = ", ".join(choices) if choices else "(none)"
    close = difflib.get_close_matches(word, choices, n=1)
    if close:
        return f"did you mean {close[0]!r}? available: {available}"
    return f"available: {available}"


class Registry:
    """Maps kinds (base classes) to named component classes.

    A registry is an ordinary object: build one, fill it through the ``mtdnn_register`` hook and pass
    it to whatever builds components. Nothing is shared between instances.

    Example:
        >>> registry = Registry()
        >>> registry.add_kind(Head, "head")
        >>> registry.add(Head, "san", SanHead)
        >>> registry.resolve(Head, "san")
        <class 'mtdnn.heads.san.SanHead'>
    """

    def __init__(self) -> None:
        self._kind_by_name: dict[str, type] = {}
        self._name_by_kind: dict[type, str] = {}
        self._components: dict[type, dict[str, type]] = {}

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={len(self._components[kind])}" for name, kind in self.kinds().items())
        return f"Registry({counts})"

    def snapshot(self) -> tuple[dict[str, type], dict[type, str], dict[type, dict[str, type]]]:
        """A copy of what is registered, for :meth:`restore` (to drop a failed plugin's additions)."""
        components = {kind: dict(names) for kind, names in self._components.items()}
        return dict(self._kind_by_name), dict(self._name_by_kind), components

    def restore(self, saved: tuple[dict[str, type], dict[type, str], dict[type, dict[str, type]]]) -> None:
        """Go back to what :meth:`snapshot` saw."""
        kinds, names, components = saved
        self._kind_by_name, self._name_by_kind = dict(kinds), dict(names)
        self._components = {kind: dict(found) for kind, found in components.items()}

    def add_kind(self, kind: type, name: str) -> None:
        """Declare ``kind`` as a base class whose subclasses can be registered.

        Adding the same kind under the same name again does nothing.

        Args:
            kind: The base class (``Head``).
            name: Its snake_case name (``"head"``), used in messages and listings.

        Raises:
            ConfigurationError: The name is not snake_case, ``kind`` is not a class, or the name or the
                class is already declared with a different partner.
        """
        _check_name(name, "kind name")
        if not isinstance(kind, type):
            raise ConfigurationError(f"kind {name!r} must be a class, got {kind!r}")
        existing = self._kind_by_name.get(name)
        if existing is kind:
            return
        if existing is not None:
            raise ConfigurationError(
                f"kind name {name!r} is already used by {qualified_name(existing)}; "
                f"cannot declare {qualified_name(kind)} under it",
                hint="choose another kind name",
            )
        if kind in self._name_by_kind:
            raise ConfigurationError(
                f"{qualified_name(kind)} is already declared as kind {self._name_by_kind[kind]!r}; "
                f"cannot declare it again as {name!r}",
            )
        self._kind_by_name[name] = kind
        self._name_by_kind[kind] = name
        self._components[kind] = {}

    def add(self, kind: type, name: str, cls: type, *, replace: bool = False) -> None:
        """Register ``cls`` under ``name`` for ``kind``.

        Args:
            kind: A declared kind (``Head``).
            name: The snake_case name configs use in ``type:`` (``"san"``).
            cls: A subclass of ``kind``.
            replace: Override a class already registered under ``name`` (logged as a warning)
                instead of failing.

        Raises:
            ConfigurationError: The kind is unknown, the name is invalid or taken (without
                ``replace``), ``cls`` is not a subclass of ``kind``, or ``cls`` is already registered
                for ``kind`` under another name.
        """
        components = self._components_of(kind)
        kind_name = self._name_by_kind[kind]
        _check_name(name, f"{kind_name} name")
        if not isinstance(cls, type) or not issubclass(cls, kind):
            shown = qualified_name(cls) if isinstance(cls, type) else repr(cls)
            raise ConfigurationError(
                f"cannot register {shown} as {kind_name} {name!r}: it is not a subclass of "
                f"{qualified_name(kind)}",
            )
        for other_name, other in components.items():
            if other is cls and other_name != name:
                raise ConfigurationError(
                    f"{qualified_name(cls)} is already registered as {kind_name} {other_name!r}; "
                    f"cannot register it again as {name!r}",
                    hint="a class has one name per kind; register a subclass to give it another",
                )
        existing = components.get(name)
        if existing is cls and not replace:
            raise ConfigurationError(
                f"{qualified_name(cls)} is already registered as {kind_name} {name!r}",
                hint="register each component once (is the plugin's hook called twice?)",
            )
        if existing is not None and not replace:
            raise ConfigurationError(
                f"{kind_name} {name!r} is taken by {_provenance(existing)}; cannot register "
                f"{_provenance(cls)} under it",
                hint=f"choose another name, e.g. {_prefixed(cls, name)!r} (a plugin that means to replace "
                "a component says so with registry.add(..., replace=True))",
            )
        if existing is not None:
            logger.warning(
                "replacing %s %r: %s -> %s",
                kind_name,
                name,
                qualified_name(existing),
                qualified_name(cls),
            )
        components[name] = cls

    def resolve(self, kind: type, name: str, *, path: str | None = None) -> type:
        """Return the class registered under ``name`` for ``kind``.

        Args:
            kind: A declared kind.
            name: The registered name (a config's ``type`` value).
            path: Config path of the name, for the error message (``tasks.sst2.head.type``).

        Returns:
            The registered class.

        Raises:
            ConfigurationError: The kind is unknown, or no class is registered under ``name``; the
                hint suggests a close name and lists the available ones.
        """
        components = self._components_of(kind)
        kind_name = self._name_by_kind[kind]
        if not isinstance(name, str):
            raise ConfigurationError(
                f"expected a {kind_name} name (a string), got {name!r}",
                path=path,
                hint=_suggest("", sorted(components)),
            )
        cls = components.get(name)
        if cls is None:
            raise ConfigurationError(
                f"unknown {kind_name} {name!r}", path=path, hint=_suggest(name, sorted(components))
            )
        return cls

    def names(self, kind: type) -> list[str]:
        """Return the names registered for ``kind``, sorted.

        Raises:
            ConfigurationError: The kind is unknown.
        """
        return sorted(self._components_of(kind))

    def items(self, kind: type) -> list[tuple[str, type]]:
        """Return ``(name, class)`` pairs registered for ``kind``, sorted by name.

        Raises:
            ConfigurationError: The kind is unknown.
        """
        return sorted(self._components_of(kind).items())

    def kinds(self) -> dict[str, type]:
        """Return the declared kinds as a new dict from kind name to base class, sorted by name."""
        return dict(sorted(self._kind_by_name.items()))

    def kind_name(self, kind: type) -> str:
        """Return the name ``kind`` was declared under.

        Raises:
            ConfigurationError: The kind is unknown.
        """
        self._components_of(kind)
        return self._name_by_kind[kind]

    def is_kind(self, tp: object) -> bool:
        """Return whether ``tp`` is a declared kind (any object is accepted, e.g. a type hint)."""
        return isinstance(tp, type) and tp in self._name_by_kind

    def name_of(self, cls: type, *, kind: type | None = None) -> str:
        """Return the name ``cls`` is registered under.

        Args:
            cls: A registered class.
            kind: Look only under this kind; needed when ``cls`` is registered under different names
                for different kinds.

        Returns:
            The registered name.

        Raises:
            ConfigurationError: ``cls`` is not registered (under ``kind``, when given), or is registered
                under several names and ``kind`` was not given.
        """
        kinds = [kind] if kind is not None else list(self._components)
        found = {name for k in kinds for name, other in self._components_of(k).items() if other is cls}
        shown = qualified_name(cls) if isinstance(cls, type) else repr(cls)
        if not found:
            where = f" as a {self.kind_name(kind)}" if kind is not None else ""
            raise ConfigurationError(
                f"{shown} is not registered{where}",
                hint="register it with registry.add(kind, name, cls) in an mtdnn_register hook",
            )
        if len(found) > 1:
            raise ConfigurationError(
                f"{shown} is registered under several names: {', '.join(sorted(found))}",
                hint="pass kind= to choose one",
            )
        return found.pop()

    def _components_of(self, kind: type) -> dict[str, type]:
        """Return the name -> class map of ``kind``, or raise listing the known kinds."""
        components = self._components.get(kind) if isinstance(kind, type) else None
        if components is None:
            shown = qualified_name(kind) if isinstance(kind, type) else repr(kind)
            known = ", ".join(f"{n} ({qualified_name(k)})" for n, k in self.kinds().items())
            raise ConfigurationError(
                f"{shown} is not a registered kind",
                hint=f"known kinds: {known or '(none)'}; declare it with registry.add_kind()",
            )
        return components
