"""Where a field of an applied object was written: its own file, a patch, or a component.

An object Flux applies is its file's document after kustomize (patches, components) and substitution.
A field keeps the value written in the object's own file unless something changed it; when it did, the
patch that wrote that value is looked for among what the build read: patch files and components' files
(strategic merge, JSON 6902) and inline patches, in ``kustomization.yaml`` or in the Flux
Kustomization's ``spec.patches``. A value that substitution filled in is pointed at the ``${VAR}`` that
was written. Lists merged by name (containers, ports, env) are matched by name, not by position.
"""

from __future__ import annotations

import posixpath
from typing import Any

import yaml

from ..flux.tree import FluxTree
from ..load import yamlio
from ..model.base import Resource

_MISSING = object()
_KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

Path_ = tuple[str | int, ...]


class Locator:
    """Answers ``(file, line)`` for a path inside an applied object."""

    def __init__(self, flux: FluxTree) -> None:
        self.flux = flux
        self.tree = flux.tree
        self._nodes: dict[str, list[yaml.Node]] = {}

    def where(self, res: Resource, path: Path_) -> tuple[str, int]:
        final = _value_at(res.obj, path)
        written = self._document(res.origin.path, res.origin.index)
        found = _value_like(written, path, res.obj)
        if found is not None and _same(found[0], final):
            return res.origin.path, self._line(res.origin.path, res.origin.index, found[1])
        if final is not _MISSING:
            hit = self._in_patches(res, path, final)
            if hit is not None:
                return hit
        return res.origin.path, self._line(res.origin.path, res.origin.index, found[1] if found else path)

    # -- patches --------------------------------------------------------------------------------

    def _in_patches(self, res: Resource, path: Path_, final: Any) -> tuple[str, int] | None:
        producer = self.flux.producer_of(res)
        files = sorted(producer.files) if producer is not None else []
        for rel in files:
            if rel == res.origin.path:
                continue
            name = posixpath.basename(rel)
            try:
                documents = self.tree.parsed(rel).documents
            except OSError:
                continue
            for index, doc in enumerate(documents):
                if name in _KUSTOMIZATION_FILES and isinstance(doc, dict):
                    hit = self._inline(rel, index, doc, ("patches",), res, path, final)
                    if hit is None:
                        hit = self._inline(rel, index, doc, ("patchesStrategicMerge",), res, path, final)
                    if hit is not None:
                        return hit
                    continue
                line = _match(doc, res, path, final)
                if line is not None:
                    return rel, self._line(rel, index, line)
        if producer is not None:
            ks = producer.ks.res
            spec = ks.obj.get("spec")
            if isinstance(spec, dict):
                written = self._document(ks.origin.path, ks.origin.index)
                if isinstance(written, dict):
                    hit = self._inline(
                        ks.origin.path, ks.origin.index, written, ("spec", "patches"), res, path, final
                    )
                    if hit is not None:
                        return hit
        return None

    def _inline(
        self, rel: str, index: int, doc: dict[str, Any], where: Path_, res: Resource, path: Path_, final: Any
    ) -> tuple[str, int] | None:
        entries = _value_at(doc, where)
        if not isinstance(entries, list):
            return None
        for position, entry in enumerate(entries):
            text = entry.get("patch") if isinstance(entry, dict) else entry
            key: Path_ = (*where, position, "patch") if isinstance(entry, dict) else (*where, position)
            if not isinstance(text, str) or ":" not in text:
                continue
            parsed = yamlio.parse(text.encode("utf-8"))
            if parsed.failure is not None:
                continue
            nodes = yamlio.compose(text, tags=False)
            for number, patch in enumerate(parsed.documents):
                inner = _match(patch, res, path, final)
                if inner is None or number >= len(nodes):
                    continue
                start = self._line(rel, index, key)
                # a block scalar's text starts on the line after its key
                return rel, start + yamlio.locate(nodes[number], inner)
        return None

    # -- reading --------------------------------------------------------------------------------

    def _document(self, rel: str, index: int) -> Any:
        try:
            documents = self.tree.parsed(rel).documents
        except OSError:
            return None
        return documents[index] if index < len(documents) else None

    def _line(self, rel: str, index: int, path: Path_) -> int:
        nodes = self._nodes.get(rel)
        if nodes is None:
            try:
                text = yamlio.decode(self.tree.read_bytes(rel))
            except (OSError, UnicodeDecodeError):
                text = ""
            nodes = self._nodes[rel] = yamlio.compose(text, tags=False)
        if index >= len(nodes):
            return 1
        return yamlio.locate(nodes[index], path)


def _match(patch: Any, res: Resource, path: Path_, final: Any) -> Path_ | None:
    """The path inside ``patch`` that wrote ``final`` at ``path`` of ``res``, or None."""
    if isinstance(patch, list):  # JSON 6902 operations
        pointer = "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)
        for number, op in enumerate(patch):
            if not isinstance(op, dict) or op.get("op") not in ("add", "replace"):
                continue
            target = op.get("path")
            if target == pointer and _same(op.get("value"), final):
                return (number, "value")
            if isinstance(target, str) and pointer.startswith(target.rstrip("/") + "/"):
                rest = _split_pointer(pointer[len(target.rstrip("/")) :])
                found = _value_like(op.get("value"), rest, _value_at(res.obj, path[: len(path) - len(rest)]))
                if found is not None and _same(found[0], final):
                    return (number, "value", *found[1])
        return None
    if not isinstance(patch, dict) or patch.get("kind") not in (None, res.kind):
        return None
    name = patch.get("metadata", {}).get("name") if isinstance(patch.get("metadata"), dict) else None
    if name not in (None, res.name):
        return None
    found = _value_like(patch, path, res.obj)
    if found is not None and _same(found[0], final):
        return found[1]
    return None


def _split_pointer(pointer: str) -> Path_:
    parts: list[str | int] = []
    for part in pointer.strip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        parts.append(int(part) if part.isdigit() else part)
    return tuple(parts)


def _same(written: Any, final: Any) -> bool:
    if written is _MISSING:
        return False
    if written == final and type(written) is type(final):
        return True
    return isinstance(written, str) and "${" in written  # substitution filled it in


def _value_at(data: Any, path: Path_) -> Any:
    current = data
    for part in path:
        if isinstance(part, int) and isinstance(current, list) and 0 <= part < len(current):
            current = current[part]
        elif isinstance(part, str) and isinstance(current, dict) and part in current:
            current = current[part]
        else:
            return _MISSING
    return current


def _value_like(data: Any, path: Path_, final: Any) -> tuple[Any, Path_] | None:
    """The value at ``path`` in ``data``, matching list items by ``name`` (as strategic merge does).

    Returns (value, the path in ``data``) or None when ``data`` has no such place; the path then is as
    deep as it could go, for a line to point at.
    """
    current, reference = data, final
    taken: list[str | int] = []
    for part in path:
        if isinstance(part, int):
            if not isinstance(current, list):
                return None
            item = reference[part] if isinstance(reference, list) and 0 <= part < len(reference) else None
            key = item.get("name") if isinstance(item, dict) else None
            position = None
            if key is not None:
                position = next(
                    (i for i, c in enumerate(current) if isinstance(c, dict) and c.get("name") == key), None
                )
            elif 0 <= part < len(current):
                position = part
            if position is None:
                return None
            current, reference = current[position], item
            taken.append(position)
        else:
            if not isinstance(current, dict) or part not in current:
                return None
            current = current[part]
            reference = reference.get(part) if isinstance(reference, dict) else None
            taken.append(part)
    return current, tuple(taken)
