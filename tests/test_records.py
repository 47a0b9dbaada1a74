"""homeops.records.NamedTuple makes the classes typing.NamedTuple makes; Record and FrozenRecord behave as
slotted dataclasses do."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import typing
from typing import Any

import pytest

from homeops import records


def _make(base: type) -> type:
    class Point(base):  # type: ignore[misc,valid-type]
        """A point."""

        x: int
        """The first coordinate."""
        y: int = 0
        label: str = "origin"

        @property
        def norm(self) -> int:
            return abs(self.x) + abs(self.y)

        def moved(self, by: int) -> Point:
            return self._replace(x=self.x + by)

    return Point


FAST, SLOW = _make(records.NamedTuple), _make(typing.NamedTuple)


def test_same_fields_defaults_methods_and_docstring() -> None:
    assert FAST._fields == SLOW._fields == ("x", "y", "label")
    assert FAST._field_defaults == SLOW._field_defaults == {"y": 0, "label": "origin"}
    assert FAST.__doc__ == SLOW.__doc__ == "A point."
    assert (FAST.__module__, FAST.__qualname__) == (SLOW.__module__, SLOW.__qualname__)
    assert FAST.__mro__[1:] == SLOW.__mro__[1:] == (tuple, object)
    fast, slow = FAST(3, -4), SLOW(3, -4)
    assert repr(fast) == repr(slow) == "Point(x=3, y=-4, label='origin')"
    assert tuple(fast) == tuple(slow) and fast == slow and hash(fast) == hash(slow)
    assert fast.norm == 7 and fast.moved(1) == FAST(4, -4) and fast._asdict() == slow._asdict()
    assert list(FAST.__annotations__) == list(SLOW.__annotations__) == ["x", "y", "label"]


def test_fields_without_defaults_cannot_follow_defaults() -> None:
    with pytest.raises(TypeError):

        class Bad(records.NamedTuple):  # type: ignore[misc]
            a: int = 1
            b: int


def test_namedtuple_attributes_cannot_be_overwritten() -> None:
    with pytest.raises(AttributeError):

        class Bad(records.NamedTuple):
            a: int

            def _asdict(self) -> dict[str, int]:  # type: ignore[override]
                return {}


def test_instances_pickle() -> None:
    assert pickle.loads(pickle.dumps(Module(1))) == Module(1)


class Module(records.NamedTuple):
    value: int


class Holder(records.Record):
    __slots__ = ("_cache", "items", "name")
    _unshown = ("_cache",)
    _uncompared = ("_cache",)

    name: str
    items: list[int]
    _cache: int | None

    def __init__(self, name: str, items: list[int] | None = None) -> None:
        self.name = name
        self.items = [] if items is None else items
        self._cache = None


@dataclasses.dataclass(slots=True)
class HolderDataclass:
    name: str
    items: list[int] = dataclasses.field(default_factory=list)
    _cache: int | None = dataclasses.field(default=None, repr=False, compare=False)


class Rule(records.FrozenRecord):
    __slots__ = ("index", "raw")
    _uncompared = ("raw",)

    index: int
    raw: dict[str, Any]

    def __init__(self, index: int, raw: dict[str, Any]) -> None:
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "raw", raw)


@dataclasses.dataclass(frozen=True, slots=True)
class RuleDataclass:
    index: int
    raw: dict[str, Any] = dataclasses.field(compare=False)


def test_a_record_compares_shows_and_refuses_hashing_as_a_dataclass() -> None:
    fast, slow = Holder("a", [1]), HolderDataclass("a", [1])
    fast._cache = slow._cache = 5
    assert repr(fast) == repr(slow).replace("HolderDataclass", "Holder") == "Holder(name='a', items=[1])"
    assert fast == Holder("a", [1]) and fast != Holder("a", [2]) and fast != slow
    assert (slow == HolderDataclass("a", [1])) and Holder("a").items == []
    for value in (fast, slow):
        with pytest.raises(TypeError):
            hash(value)
    fast.items.append(2)
    assert copy.copy(fast) == fast and pickle.loads(pickle.dumps(fast)) == fast


def test_a_frozen_record_is_immutable_and_hashed_by_what_it_compares() -> None:
    fast, slow = Rule(1, {"a": 1}), RuleDataclass(1, {"a": 1})
    assert (
        repr(fast) == "Rule(index=1, raw={'a': 1})" and repr(slow) == "RuleDataclass(index=1, raw={'a': 1})"
    )
    assert fast == Rule(1, {"b": 2}) and slow == RuleDataclass(1, {"b": 2})
    assert hash(fast) == hash(Rule(1, {})) and hash(slow) == hash(RuleDataclass(1, {}))
    for value in (fast, slow):
        with pytest.raises(AttributeError):
            value.index = 2  # type: ignore[misc]
    assert copy.copy(fast).raw == {"a": 1} and pickle.loads(pickle.dumps(fast)) == fast
