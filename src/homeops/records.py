"""``NamedTuple`` for homeops' value types: the same classes as ``typing.NamedTuple`` makes, made faster.

``typing.NamedTuple`` checks every field's annotation when the class is created; under ``from
__future__ import annotations`` each is a string, compiled into a ``ForwardRef`` (0.1-0.3 ms a class).
A cold ``homeops check`` creates some seventy of them at import, in a budget measured against a bare
libyaml parse. This one builds the same ``collections.namedtuple`` class (fields, defaults, methods,
docstring, module and qualified name as typing's) and keeps the annotations as written, unevaluated.
Type checkers see ``typing.NamedTuple`` itself. No generic NamedTuples: nothing here needs them.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
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
