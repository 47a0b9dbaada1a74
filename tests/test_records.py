"""homeops.records.NamedTuple makes the classes typing.NamedTuple makes."""

from __future__ import annotations

import pickle
import typing

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
