"""RFC 6902 JSON patches with the behaviour of the library kustomize uses (evanphx/json-patch v4).

Operations: add, remove, replace, move, copy, test. ``add`` needs the parent to exist; ``-`` appends
to a list; negative list indexes count from the end; ``replace`` of a missing map key adds it (a
quirk of that library kustomize users rely on without knowing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model.base import deep_copy


class JsonPatchError(Exception):
    """An operation did not apply (the caller adds file and line)."""


def apply(doc: dict[str, Any], ops: list[Any], private: Private | None = None) -> Any:
    """Apply ``ops`` to ``doc`` (changed in place) and return the result.

    ``private``: for a ``doc`` that shares containers with other objects, gives a container of it
    that the caller may change (a copy, unless it is one already); the operations then copy only
    the containers on the paths they write. None: ``doc`` is a private copy through and through.
    """
    root: list[Any] = [doc, private]
    for number, op in enumerate(ops, 1):
        if not isinstance(op, dict):
            raise JsonPatchError(f"operation {number} is not a mapping")
        kind = op.get("op")
        path = op.get("path")
        if not isinstance(path, str):
            raise JsonPatchError(f"operation {number} ({kind}) has no path")
        try:
            if kind == "add":
                _add(root, path, deep_copy(_value(op, number)))
            elif kind == "remove":
                _remove(root, path)
            elif kind == "replace":
                _replace(root, path, deep_copy(_value(op, number)))
            elif kind == "move":
                source = _from(op, number)
                value = _get(root, source)
                _remove(root, source)
                _add(root, path, value)
            elif kind == "copy":
                _add(root, path, deep_copy(_get(root, _from(op, number))))
            elif kind == "test":
                if not _equal(_get(root, path), _value(op, number)):
                    raise JsonPatchError(f"test failed: the value at {path} differs")
            else:
                raise JsonPatchError(f"unknown operation {kind!r}")
        except JsonPatchError as exc:
            raise JsonPatchError(f"operation {number} ({kind} {path}): {exc}") from None
    return root[0]


def _value(op: dict[str, Any], number: int) -> Any:
    if "value" not in op:
        raise JsonPatchError("missing value")
    return op["value"]


def _from(op: dict[str, Any], number: int) -> str:
    source = op.get("from")
    if not isinstance(source, str):
        raise JsonPatchError("missing from")
    return source


def _tokens(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise JsonPatchError(f"path {path!r} does not start with /")
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


Private = Callable[[Any], Any]
"""A container made writable: itself when it is already, else a copy the caller keeps track of."""


def _parent(root: list[Any], path: str) -> tuple[Any, str]:
    """The container an operation writes in (made private on the way, see :func:`apply`), and the
    last token of ``path``."""
    tokens = _tokens(path)
    if not tokens:
        return root, "0"
    private: Private | None = root[1]
    node: Any = root[0]
    if private is not None:
        node = root[0] = private(node)
    for token in tokens[:-1]:
        key, child = _step(node, token)
        # a tuple of types, not `X | Y`: that builds a union object at every call (a hot path)
        if private is not None and isinstance(child, (dict, list)):
            owned = private(child)
            if owned is not child:
                node[key] = child = owned
        node = child
    return node, tokens[-1]


def _child(node: Any, token: str) -> Any:
    return _step(node, token)[1]


def _step(node: Any, token: str) -> tuple[str | int, Any]:
    if isinstance(node, dict):
        if token not in node:
            raise JsonPatchError("doc is missing path")
        return token, node[token]
    if isinstance(node, list):
        index = _index(node, token, len(node) - 1)
        return index, node[index]
    raise JsonPatchError("doc is missing path")


def _index(items: list[Any], token: str, highest: int) -> int:
    try:
        idx = int(token)
    except ValueError:
        raise JsonPatchError(f"{token!r} is not a list index") from None
    size = highest + 1
    if idx < 0:
        if idx < -size:
            raise JsonPatchError(f"invalid index {idx}")
        idx += size
    if idx > highest:
        raise JsonPatchError(f"invalid index {idx}")
    return idx


def _get(root: list[Any], path: str) -> Any:
    node: Any = root[0]
    for token in _tokens(path):
        node = _child(node, token)
    return node


def _add(root: list[Any], path: str, value: Any) -> None:
    parent, key = _parent(root, path)
    if parent is root:
        root[0] = value
    elif isinstance(parent, dict):
        parent[key] = value
    elif isinstance(parent, list):
        if key == "-":
            parent.append(value)
        else:
            parent.insert(_index(parent, key, len(parent)), value)
    else:
        raise JsonPatchError("doc is missing path")


def _remove(root: list[Any], path: str) -> None:
    parent, key = _parent(root, path)
    if parent is root:
        raise JsonPatchError("cannot remove the whole document")
    if isinstance(parent, dict):
        if key not in parent:
            raise JsonPatchError("doc is missing key")
        del parent[key]
    elif isinstance(parent, list):
        del parent[_index(parent, key, len(parent) - 1)]
    else:
        raise JsonPatchError("doc is missing path")


def _replace(root: list[Any], path: str, value: Any) -> None:
    parent, key = _parent(root, path)
    if parent is root:
        root[0] = value
    elif isinstance(parent, dict):
        # evanphx/json-patch v4 replaces a missing key as if it were there.
        parent[key] = value
    elif isinstance(parent, list):
        parent[_index(parent, key, len(parent) - 1)] = value
    else:
        raise JsonPatchError("doc is missing path")


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)
