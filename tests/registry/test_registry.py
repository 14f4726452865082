"""Tests for :class:`mtdnn.registry.Registry`."""

from __future__ import annotations

import logging

import pytest

from mtdnn.errors import ConfigurationError
from mtdnn.registry import Registry


class Head:
    """Base class standing in for a component kind."""


class ClassificationHead(Head):
    """A registered head."""


class SanHead(Head):
    """Another registered head."""


class OtherSanHead(Head):
    """A head that collides with ``SanHead``'s name."""


class Loss:
    """A second kind."""


class CrossEntropyLoss(Loss):
    """A registered loss."""


@pytest.fixture
def registry() -> Registry:
    registry = Registry()
    registry.add_kind(Head, "head")
    registry.add_kind(Loss, "loss")
    registry.add(Head, "classification", ClassificationHead)
    registry.add(Head, "san", SanHead)
    registry.add(Loss, "cross_entropy", CrossEntropyLoss)
    return registry


def test_resolve_returns_registered_class(registry: Registry) -> None:
    assert registry.resolve(Head, "san") is SanHead
    assert registry.resolve(Loss, "cross_entropy") is CrossEntropyLoss


def test_registries_are_independent(registry: Registry) -> None:
    fresh = Registry()
    assert fresh.kinds() == {}
    assert not fresh.is_kind(Head)
    fresh.add_kind(Head, "head")
    assert fresh.names(Head) == []
    assert registry.names(Head) == ["classification", "san"]


def test_unknown_name_suggests_close_match_and_lists_available(registry: Registry) -> None:
    with pytest.raises(ConfigurationError) as info:
        registry.resolve(Head, "clasification", path="tasks.sst2.head.type")
    err = info.value
    assert err.path == "tasks.sst2.head.type"
    assert err.message == "unknown head 'clasification'"
    assert err.hint == "did you mean 'classification'? available: classification, san"
    assert str(err).startswith("tasks.sst2.head.type: unknown head 'clasification'")


def test_unknown_name_without_close_match_lists_available(registry: Registry) -> None:
    with pytest.raises(ConfigurationError) as info:
        registry.resolve(Head, "zzzzzz")
    assert info.value.hint == "available: classification, san"


def test_non_string_name_is_rejected(registry: Registry) -> None:
    with pytest.raises(ConfigurationError, match="expected a head name"):
        registry.resolve(Head, 3, path="x.type")  # type: ignore[arg-type]


def test_duplicate_name_names_both_classes(registry: Registry) -> None:
    with pytest.raises(ConfigurationError) as info:
        registry.add(Head, "san", OtherSanHead)
    message = str(info.value)
    assert f"head 'san' is taken by {SanHead.__module__}.SanHead" in message
    assert f"cannot register {OtherSanHead.__module__}.OtherSanHead under it" in message
    assert info.value.hint is not None and info.value.hint.startswith("choose another name, e.g. 'tests_san'")
    assert registry.resolve(Head, "san") is SanHead


def test_same_class_twice_under_same_name_is_an_error(registry: Registry) -> None:
    with pytest.raises(ConfigurationError, match="already registered as head 'san'"):
        registry.add(Head, "san", SanHead)


def test_replace_overrides_and_logs_warning(registry: Registry, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mtdnn.registry.registry"):
        registry.add(Head, "san", OtherSanHead, replace=True)
    assert registry.resolve(Head, "san") is OtherSanHead
    assert any("SanHead" in rec.getMessage() and "OtherSanHead" in rec.getMessage() for rec in caplog.records)
    assert all(rec.levelno == logging.WARNING for rec in caplog.records)


def test_class_gets_one_name_per_kind(registry: Registry) -> None:
    with pytest.raises(ConfigurationError, match="already registered as head 'san'; cannot register it"):
        registry.add(Head, "san2", SanHead)


@pytest.mark.parametrize("name", ["San", "san-head", "_san", "san__head", "san_", "2san", ""])
def test_invalid_names_are_rejected(registry: Registry, name: str) -> None:
    with pytest.raises(ConfigurationError, match="invalid head name"):
        registry.add(Head, name, OtherSanHead)


@pytest.mark.parametrize("name", ["san", "san2", "sequence_labeling", "a_1_b"])
def test_valid_names_are_accepted(name: str) -> None:
    registry = Registry()
    registry.add_kind(Head, "head")
    registry.add(Head, name, SanHead)
    assert registry.names(Head) == [name]


def test_class_must_subclass_kind(registry: Registry) -> None:
    with pytest.raises(
        ConfigurationError, match=r"not a subclass of (tests\.registry\.)?test_registry\.Head"
    ):
        registry.add(Head, "cross_entropy", CrossEntropyLoss)


def test_unknown_kind_lists_known_kinds() -> None:
    registry = Registry()
    registry.add_kind(Head, "head")
    with pytest.raises(ConfigurationError) as info:
        registry.add(Loss, "cross_entropy", CrossEntropyLoss)
    assert f"{Loss.__module__}.Loss is not a registered kind" in info.value.message
    assert info.value.hint is not None
    assert f"head ({Head.__module__}.Head)" in info.value.hint
    with pytest.raises(ConfigurationError, match="not a registered kind"):
        registry.resolve(Loss, "x")


def test_add_kind_same_pair_is_noop_and_conflicts_fail(registry: Registry) -> None:
    registry.add_kind(Head, "head")
    assert registry.names(Head) == ["classification", "san"]
    with pytest.raises(
        ConfigurationError,
        match=r"kind name 'head' is already used by (tests\.registry\.)?test_registry\.Head",
    ):
        registry.add_kind(Loss, "head")
    with pytest.raises(ConfigurationError, match="already declared as kind 'head'"):
        registry.add_kind(Head, "other_head")
    with pytest.raises(ConfigurationError, match="invalid kind name"):
        registry.add_kind(ClassificationHead, "ClassificationHead")


def test_listing(registry: Registry) -> None:
    assert registry.names(Head) == ["classification", "san"]
    assert registry.items(Head) == [("classification", ClassificationHead), ("san", SanHead)]
    assert registry.kinds() == {"head": Head, "loss": Loss}
    assert registry.kind_name(Loss) == "loss"
    assert registry.is_kind(Head)
    assert not registry.is_kind(SanHead)
    assert not registry.is_kind("head")
    assert not registry.is_kind(list[int])


def test_kinds_returns_a_copy(registry: Registry) -> None:
    registry.kinds().clear()
    assert registry.is_kind(Head)


def test_name_of(registry: Registry) -> None:
    assert registry.name_of(SanHead) == "san"
    assert registry.name_of(CrossEntropyLoss) == "cross_entropy"
    with pytest.raises(ConfigurationError, match=r"test_registry\.OtherSanHead is not registered"):
        registry.name_of(OtherSanHead)


def test_name_of_class_under_two_kinds() -> None:
    class Both(Head, Loss):
        pass

    registry = Registry()
    registry.add_kind(Head, "head")
    registry.add_kind(Loss, "loss")
    registry.add(Head, "both", Both)
    assert registry.name_of(Both) == "both"
    registry.add(Loss, "both_loss", Both)
    with pytest.raises(ConfigurationError, match="several names: both, both_loss"):
        registry.name_of(Both)
    assert registry.name_of(Both, kind=Loss) == "both_loss"
