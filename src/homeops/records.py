"""``NamedTuple`` for homeops' value types: the same classes as ``typing.NamedTuple`` makes, made faster.

``typing.NamedTuple`` checks every field's annotation when the class is created; under ``from
__future__ import annotations`` each is a string, compiled into a ``ForwardRef`` (0.1-0.3 ms a class).
A cold ``homeops check`` creates some seventy of them at import, in a budget measured against a bare
libyaml parse. This one builds the same ``collections.namedtuple`` class (fields, defaults, methods,
docstring, module and qualified name as typing's) and keeps the annotations as written, unevaluated.
Type checkers see ``typing.NamedTuple`` itself. No generic NamedTuples: nothing here needs them.

:class:`Record` and :class:`FrozenRecord` are the same for mutable holders: plain classes with
``__slots__`` and an ``__init__`` of their own that compare and show themselves as
``@dataclass(slots=True)`` (and ``frozen=True``) does. ``dataclasses`` costs a cold check ~0.6 ms a
class and ~6 ms of imports (``inspect``, ``ast``, ``dis``).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any, ClassVar
    from typing import NamedTuple as NamedTuple
else:
    import collections

    _PROHIBITED = frozenset(
        {"__new__", "__init__", "__slots__", "__getnewargs__", "_fields", "_field_defaults"}
        | {"_make", "_replace", "_asdict", "_source"}
    )
    _SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})

    class _NamedTupleMeta(type):
        def __new__(mcs, name, bases, namespace):
            if not bases:  # NamedTuple itself
                return super().__new__(mcs, name, bases, namespace)
            if bases != (NamedTuple,):
                raise TypeError("can only inherit from NamedTuple")
            annotations = namespace.get("__annotations__", {})
            defaults = []
            for field in annotations:
                if field in namespace:
                    defaults.append(namespace[field])
                elif defaults:
                    raise TypeError(f"non-default namedtuple field {field} cannot follow default field")
            made = collections.namedtuple(
                name, list(annotations), defaults=defaults, module=namespace["__module__"]
            )
            made.__annotations__ = made.__new__.__annotations__ = dict(annotations)
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"Cannot overwrite NamedTuple attribute {key}")
                if key not in _SPECIAL and key not in made._fields:
                    setattr(made, key, value)
            return made

    class NamedTuple(metaclass=_NamedTupleMeta):
        """Base of homeops' value types (see the module's docstring)."""


class Record:
    """Base of a mutable holder: equal to another of its class field by field, shown field by field
    (fields in the order of the class's annotations), unhashable, as a ``@dataclass(slots=True)``.

    A subclass lists its fields in ``__slots__`` and sets them in its ``__init__``.
    """

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]  # compared by value and mutable, as a dataclass
    _unshown: ClassVar[tuple[str, ...]] = ()
    """Fields ``repr`` leaves out (a dataclass's ``field(repr=False)``)."""
    _uncompared: ClassVar[tuple[str, ...]] = ()
    """Fields equality leaves out (a dataclass's ``field(compare=False)``)."""

    def _compared(self) -> tuple[Any, ...]:
        return tuple(
            getattr(self, name) for name in type(self).__annotations__ if name not in self._uncompared
        )

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return self._compared() == other._compared()

    def __repr__(self) -> str:
        shown = (
            f"{name}={getattr(self, name)!r}"
            for name in type(self).__annotations__
            if name not in self._unshown
        )
        return f"{type(self).__qualname__}({', '.join(shown)})"


class FrozenRecord(Record):
    """Base of an immutable holder (its ``__init__`` sets fields with ``object.__setattr__``), hashed
    by the fields it compares, as a ``@dataclass(frozen=True, slots=True)``."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._compared())

    # copy and pickle set fields past __setattr__, as a frozen dataclass's do
    def __getstate__(self) -> list[Any]:
        return [getattr(self, name) for name in type(self).__annotations__]

    def __setstate__(self, state: list[Any]) -> None:
        for name, value in zip(type(self).__annotations__, state, strict=True):
            object.__setattr__(self, name, value)
