"""Tests for :func:`mtdnn.config.build` and :func:`mtdnn.config.accepted_keys`."""

from __future__ import annotations

import dataclasses
import enum
from pathlib import Path
from typing import Any, Literal

import pytest

from mtdnn.config import accepted_keys, build
from mtdnn.errors import ConfigurationError
from mtdnn.registry import Registry


class Thing:
    """A component kind."""


class Small(Thing):
    """A leaf component with typed keyword arguments."""

    def __init__(self, size: int, *, label: str = "small", ratio: float = 0.5, flag: bool = False) -> None:
        self.size = size
        self.label = label
        self.ratio = ratio
        self.flag = flag


class Pair(Thing):
    """A component with nested components and a literal."""

    def __init__(
        self, first: Thing, second: Thing | None = None, *, mode: Literal["sum", "max"] = "sum"
    ) -> None:
        self.first = first
        self.second = second
        self.mode = mode


class Bag(Thing):
    """A component holding lists and dicts of components."""

    def __init__(self, items: list[Thing], *, by_name: dict[str, Thing] | None = None) -> None:
        self.items = items
        self.by_name = by_name


class Sized(Thing):
    """A component that takes a runtime fact (``input_dim``)."""

    def __init__(self, input_dim: int, *, scale: float = 1.0) -> None:
        self.input_dim = input_dim
        self.scale = scale


class Starred(Thing):
    """A component whose constructor hides its schema."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


class Strict(Thing):
    """A component that validates its own arguments."""

    def __init__(self, turns: int, *, rate: float = 0.5) -> None:
        if turns < 1:
            raise ConfigurationError("turns must be at least 1", hint="use turns >= 1")
        if not 0 < rate < 1:
            raise ConfigurationError("rate must be in (0, 1)", path="rate")  # relative to itself
        self.turns = turns


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Options:
    """A plain (unregistered) class built from a nested object."""

    def __init__(
        self,
        lr: float,
        path: Path,
        *,
        tags: tuple[str, ...] = (),
        shape: tuple[int, str] | None = None,
        number: int | str = 0,
        color: Color = Color.RED,
        extra: Any = None,
    ) -> None:
        self.lr = lr
        self.path = path
        self.tags = tags
        self.shape = shape
        self.number = number
        self.color = color
        self.extra = extra


class Holder(Thing):
    """A component holding a plain object."""

    def __init__(self, options: Options, *, input_dim: int = 0) -> None:
        self.options = options
        self.input_dim = input_dim


class Choice(Thing):
    """A component whose argument is a union of a component and a plain object."""

    def __init__(self, value: Thing | Options) -> None:
        self.value = value


@dataclasses.dataclass
class Point:
    """A dataclass: its generated constructor is its schema."""

    x: int
    y: float = 0.0


@pytest.fixture
def registry() -> Registry:
    registry = Registry()
    registry.add_kind(Thing, "thing")
    for name, cls in [
        ("small", Small),
        ("pair", Pair),
        ("bag", Bag),
        ("sized", Sized),
        ("starred", Starred),
        ("strict", Strict),
        ("holder", Holder),
        ("choice", Choice),
    ]:
        registry.add(Thing, name, cls)
    return registry


def test_builds_registered_component(registry: Registry) -> None:
    thing = build(registry, Thing, {"type": "small", "size": 3, "ratio": 1, "flag": True}, path="model")
    assert isinstance(thing, Small)
    assert (thing.size, thing.label, thing.ratio, thing.flag) == (3, "small", 1.0, True)
    assert isinstance(thing.ratio, float)


def test_string_is_shorthand_for_type(registry: Registry) -> None:
    thing = build(registry, Thing, "sized", path="model", input_dim=8)
    assert isinstance(thing, Sized)
    assert thing.input_dim == 8


def test_unknown_type_suggests_name(registry: Registry) -> None:
    with pytest.raises(ConfigurationError) as info:
        build(registry, Thing, {"type": "smal", "size": 1}, path="tasks.sst2.head")
    assert info.value.path == "tasks.sst2.head.type"
    assert info.value.message == "unknown thing 'smal'"
    assert info.value.hint is not None
    assert info.value.hint.startswith("did you mean 'small'? available: bag, choice, holder")


def test_missing_type_lists_available(registry: Registry) -> None:
    with pytest.raises(ConfigurationError, match="missing key 'type'") as info:
        build(registry, Thing, {"size": 1}, path="model")
    assert info.value.path == "model"
    assert "small" in (info.value.hint or "")


def test_non_object_for_kind_is_rejected(registry: Registry) -> None:
    with pytest.raises(ConfigurationError, match="expected a thing") as info:
        build(registry, Thing, 3, path="model")
    assert info.value.path == "model"


def test_unknown_key_suggests_and_lists_accepted_keys(registry: Registry) -> None:
    with pytest.raises(ConfigurationError) as info:
        build(registry, Thing, {"type": "small", "size": 1, "ratoi": 0.1}, path="head")
    err = info.value
    assert err.path == "head.ratoi"
    assert err.message == f"unknown key 'ratoi' for thing 'small' ({Small.__module__}.Small)"
    assert err.hint is not None
    assert err.hint.startswith("did you mean 'ratio'? accepted keys: size: int (required), label: str")
    assert "ratio: float (default 0.5)" in err.hint
    assert "flag: bool (default False)" in err.hint


def test_missing_required_key_lists_accepted_keys(registry: Registry) -> None:
    with pytest.raises(ConfigurationError) as info:
        build(registry, Thing, {"type": "small", "label": "x"}, path="head")
    err = info.value
    assert err.path == "head"
    assert err.message == f"missing required key 'size' for thing 'small' ({Small.__module__}.Small)"
    assert err.hint is not None
    assert "size: int (required)" in err.hint


def test_extras_go_only_to_constructors_that_declare_them(registry: Registry) -> None:
    config = {"type": "pair", "first": {"type": "sized"}, "second": {"type": "small", "size": 2}}
    pair = build(registry, Thing, config, path="model", input_dim=16, unused=object())
    assert isinstance(pair, Pair)
    assert isinstance(pair.first, Sized)
    assert pair.first.input_dim == 16
    assert isinstance(pair.second, Small)
    assert not hasattr(pair.second, "input_dim")


def test_extras_do_not_replace_defaults_unless_declared(registry: Registry) -> None:
    holder = build(
        registry, Thing, {"type": "holder", "options": {"lr": 1, "path": "a"}}, path="m", input_dim=4
    )
    assert isinstance(holder, Holder)
    assert holder.input_dim == 4
    plain = build(registry, Thing, {"type": "holder", "options": {"lr": 1, "path": "a"}}, path="m")
    assert isinstance(plain, Holder)
    assert plain.input_dim == 0


def test_key_supplied_by_extras_must_not_be_in_config(registry: Registry) -> None:
    with pytest.raises(ConfigurationError) as info:
        build(registry, Thing, {"type": "sized", "input_dim": 3}, path="head", input_dim=8)
    assert info.value.path == "head.input_dim"
    assert "supplied at runtime and must be removed from the config" in info.value.message


def test_constructor_with_kwargs_is_rejected(registry: Registry) -> None:
    with pytest.raises(ConfigurationError, match=r"test_build\.Starred cannot be built .*\*\*kwargs"):
        build(registry, Thing, {"type": "starred"}, path="model")
    with pytest.raises(ConfigurationError, match="Starred"):
        accepted_keys(Starred)


def test_nested_list_and_dict_of_components(registry: Registry) -> None:
    config = {
        "type": "bag",
        "items": [{"type": "small", "size": 1}, "sized"],
        "by_name": {"a": {"type": "small", "size": 2}},
    }
    bag = build(registry, Thing, config, path="model", input_dim=5)
    assert isinstance(bag, Bag)
    assert isinstance(bag.items[0], Small)
    assert isinstance(bag.items[1], Sized)
    assert bag.items[1].input_dim == 5
    assert bag.by_name is not None
    assert isinstance(bag.by_name["a"], Small)
    assert bag.by_name["a"].size == 2


def test_nested_paths_in_errors(registry: Registry) -> None:
    with pytest.raises(ConfigurationError) as info:
        build(
            registry,
            Thing,
            {"type": "bag", "items": [{"type": "small", "size": 1}, {"type": "nope"}]},
            path="m",
        )
    assert info.value.path == "m.items[1].type"
    with pytest.raises(ConfigurationError) as info:
        build(registry, Thing, {"type": "bag", "items": [], "by_name": {"k": {"type": "small"}}}, path="m")
    assert info.value.path == "m.by_name.k"
    assert "missing required key 'size'" in info.value.message
    with pytest.raises(ConfigurationError) as info:
        build(registry, Thing, {"type": "bag", "items": [{"type": "small", "size": "big"}]}, path="m")
    assert info.value.path == "m.items[0].size"
    assert info.value.message == "expected int, got str 'big'"


def test_optional_accepts_null_and_value(registry: Registry) -> None:
    pair = build(registry, Thing, {"type": "pair", "first": "sized", "second": None}, path="m", input_dim=1)
    assert isinstance(pair, Pair)
    assert pair.second is None
    with pytest.raises(ConfigurationError) as info:
        build(
            registry,
            Thing,
            {"type": "pair", "first": "sized", "second": {"type": "x"}},
            path="m",
            input_dim=1,
        )
    assert info.value.path == "m.second.type"


def test_literal_choices_with_suggestion(registry: Registry) -> None:
    pair = build(registry, Thing, {"type": "pair", "first": "sized", "mode": "max"}, path="m", input_dim=1)
    assert isinstance(pair, Pair)
    assert pair.mode == "max"
    with pytest.raises(ConfigurationError) as info:
        build(registry, Thing, {"type": "pair", "first": "sized", "mode": "mx"}, path="m", input_dim=1)
    assert info.value.path == "m.mode"
    assert info.value.message == "invalid value 'mx'"
    assert info.value.hint == "did you mean 'max'? choose one of 'sum', 'max'"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("size", True),
        ("size", 1.5),
        ("size", "3"),
        ("ratio", False),
        ("ratio", "0.1"),
        ("flag", 1),
        ("label", 2),
    ],
)
def test_scalars_are_strict(registry: Registry, key: str, value: object) -> None:
    config = {"type": "small", "size": 1, key: value}
    with pytest.raises(ConfigurationError, match="^m." + key + ": expected ") as info:
        build(registry, Thing, config, path="m")
    assert repr(value) in info.value.message


def test_integral_float_is_an_int(registry: Registry) -> None:
    small = build(registry, Thing, {"type": "small", "size": 4.0}, path="m")
    assert isinstance(small, Small)
    assert small.size == 4
    assert type(small.size) is int


def test_plain_class_from_dict_with_conversions() -> None:
    config = {
        "lr": 2,
        "path": "data/x.tsv",
        "tags": ["a", "b"],
        "shape": [3, "c"],
        "number": "seven",
        "color": "blue",
        "extra": {"anything": [1]},
    }
    options = build(Registry(), Options, config, path="opts")
    assert options.lr == 2.0
    assert options.path == Path("data/x.tsv")
    assert options.tags == ("a", "b")
    assert options.shape == (3, "c")
    assert options.number == "seven"
    assert options.color is Color.BLUE
    assert options.extra == {"anything": [1]}


def test_plain_class_rejects_type_key() -> None:
    with pytest.raises(ConfigurationError) as info:
        build(Registry(), Options, {"type": "x", "lr": 1, "path": "p"}, path="opts")
    assert info.value.path == "opts.type"
    assert "not a registered kind" in (info.value.hint or "")


def test_plain_class_nested_in_component(registry: Registry) -> None:
    holder = build(registry, Thing, {"type": "holder", "options": {"lr": 0.1, "path": "p"}}, path="m")
    assert isinstance(holder, Holder)
    assert isinstance(holder.options, Options)
    with pytest.raises(ConfigurationError) as info:
        build(registry, Thing, {"type": "holder", "options": {"lr": 0.1, "pth": "p"}}, path="m")
    assert info.value.path == "m.options.pth"
    assert (info.value.hint or "").startswith("did you mean 'path'?")


def test_wrong_tuple_length_and_enum_value() -> None:
    with pytest.raises(ConfigurationError) as info:
        build(Registry(), Options, {"lr": 1, "path": "p", "shape": [1]}, path="o")
    assert info.value.path == "o.shape"
    assert "exactly 2 items" in (info.value.hint or "")
    with pytest.raises(ConfigurationError) as info:
        build(Registry(), Options, {"lr": 1, "path": "p", "color": "green"}, path="o")
    assert info.value.path == "o.color"
    assert "'red', 'blue'" in (info.value.hint or "")


def test_union_reports_when_no_member_fits() -> None:
    with pytest.raises(ConfigurationError) as info:
        build(Registry(), Options, {"lr": 1, "path": "p", "number": 1.5}, path="o")
    assert info.value.path == "o.number"
    assert info.value.message == "expected int | str, got float 1.5"
    assert "as int:" in (info.value.hint or "")
    assert "as str:" in (info.value.hint or "")


def test_union_of_component_and_plain_class(registry: Registry) -> None:
    by_type = build(registry, Thing, {"type": "choice", "value": {"type": "small", "size": 1}}, path="m")
    assert isinstance(by_type, Choice)
    assert isinstance(by_type.value, Small)
    plain = build(registry, Thing, {"type": "choice", "value": {"lr": 1, "path": "p"}}, path="m")
    assert isinstance(plain, Choice)
    assert isinstance(plain.value, Options)


def test_union_surfaces_the_error_from_the_member_that_matched(registry: Registry) -> None:
    with pytest.raises(ConfigurationError) as info:
        build(registry, Thing, {"type": "choice", "value": {"type": "small", "sise": 1}}, path="m")
    assert info.value.path == "m.value.sise"


def test_dataclass_and_instances_pass_through(registry: Registry) -> None:
    point = build(registry, Point, {"x": 1}, path="p")
    assert point == Point(1, 0.0)
    existing = Small(1)
    assert build(registry, Thing, existing, path="m") is existing


def test_error_from_constructor_gets_the_path(registry: Registry) -> None:
    with pytest.raises(ConfigurationError) as info:
        build(registry, Thing, {"type": "strict", "turns": 0}, path="tasks.a.head")
    assert info.value.path == "tasks.a.head"
    assert info.value.message == "turns must be at least 1"
    assert info.value.hint == "use turns >= 1"


def test_a_constructor_names_its_key_and_build_says_where_the_component_sits(registry: Registry) -> None:
    with pytest.raises(ConfigurationError) as info:
        build(registry, Thing, {"type": "strict", "turns": 1, "rate": 2.0}, path="tasks.a.head")
    assert info.value.path == "tasks.a.head.rate"
    assert str(info.value) == "tasks.a.head.rate: rate must be in (0, 1)"


def test_accepted_keys() -> None:
    assert accepted_keys(Small) == {"size": "int", "label": "str", "ratio": "float", "flag": "bool"}
    assert accepted_keys(Pair) == {
        "first": "Thing",
        "second": "Thing | None",
        "mode": "Literal['sum', 'max']",
    }
    assert accepted_keys(Bag) == {"items": "list[Thing]", "by_name": "dict[str, Thing] | None"}
    assert accepted_keys(Options)["tags"] == "tuple[str, ...]"
    assert accepted_keys(Options)["extra"] == "Any"
    assert accepted_keys(Point) == {"x": "int", "y": "float"}
