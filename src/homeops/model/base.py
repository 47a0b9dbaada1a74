"""The value types every stage shares: where an object came from, its identity, the raw resource.

A :class:`Resource` is one Kubernetes object as a plain mapping plus its :class:`Origin`. The kustomize
engine produces them, the Flux tree annotates them, the typed model (:mod:`homeops.model.kinds`,
:mod:`homeops.model.flux`) reads them. Resources share parsed data with the source tree: copy before
mutating (:func:`deep_copy`). The value types are ``NamedTuple`` s, cheap to create at import (see
DESIGN.md): they compare, hash and sort by their fields, as tuples do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from ..records import NamedTuple, Record

T = TypeVar("T")


class Origin(NamedTuple):
    """The file and document an object was read from."""

    path: str
    """Repo-relative path of the file."""
    line: int
    """1-based line the document starts on."""
    index: int = 0  # type: ignore[assignment]  # shadows tuple.index, which no caller needs here
    """0-based document index within the file."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class NamedResource(NamedTuple):
    """Identity of an object inside one cluster."""

    kind: str
    namespace: str
    """Empty for cluster-scoped objects."""
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"

    @property
    def short(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


class ObjectRef(NamedTuple):
    """A reference from one object to another (``sourceRef``, ``dependsOn``, ``chartRef``)."""

    kind: str
    name: str
    namespace: str

    @property
    def id(self) -> NamedResource:
        return NamedResource(self.kind, self.namespace, self.name)


def split_api_version(api_version: str) -> tuple[str, str]:
    """``apps/v1`` → (``apps``, ``v1``); ``v1`` → (``""``, ``v1``)."""
    found = _SPLIT.get(api_version)
    if found is None:
        if "/" in api_version:
            group, version = api_version.rsplit("/", 1)
            found = (group, version)
        else:
            found = ("", api_version)
        if len(_SPLIT) < 10_000:
            _SPLIT[api_version] = found
    return found


_SPLIT: dict[str, tuple[str, str]] = {}
"""Memoised splits: a repository has a few dozen apiVersions, asked about for every object."""


class Resource(Record):
    """One Kubernetes object with its origin. ``obj`` may be shared: copy before mutating."""

    __slots__ = ("notes", "obj", "origin")

    obj: dict[str, Any]
    origin: Origin
    notes: dict[str, Any]
    """Annotations of homeops' own (the producer, the cluster), never rendered."""

    def __init__(self, obj: dict[str, Any], origin: Origin, notes: dict[str, Any] | None = None) -> None:
        self.obj = obj
        self.origin = origin
        self.notes = {} if notes is None else notes

    @property
    def api_version(self) -> str:
        value = self.obj.get("apiVersion")
        return value if isinstance(value, str) else ""

    @property
    def group(self) -> str:
        value = self.obj.get("apiVersion")
        if not isinstance(value, str):
            return ""
        found = _SPLIT.get(value)  # the memo first: read for every object by most rules
        return (found or split_api_version(value))[0]

    @property
    def version(self) -> str:
        return split_api_version(self.api_version)[1]

    @property
    def kind(self) -> str:
        value = self.obj.get("kind")
        return value if isinstance(value, str) else ""

    @property
    def metadata(self) -> Mapping[str, Any]:
        meta = self.obj.get("metadata")
        return meta if isinstance(meta, dict) else {}

    # name and namespace read the metadata themselves (not through ``metadata``): asked of every object
    # by most rules and builds, a property call less each time.
    @property
    def name(self) -> str:
        meta = self.obj.get("metadata")
        value = meta.get("name") if isinstance(meta, dict) else None
        return str(value) if value is not None else ""

    @property
    def namespace(self) -> str:
        meta = self.obj.get("metadata")
        value = meta.get("namespace") if isinstance(meta, dict) else None
        return str(value) if value is not None else ""

    @property
    def labels(self) -> Mapping[str, str]:
        value = self.metadata.get("labels")
        return value if isinstance(value, dict) else {}

    @property
    def annotations(self) -> Mapping[str, str]:
        value = self.metadata.get("annotations")
        return value if isinstance(value, dict) else {}

    @property
    def id(self) -> NamedResource:
        return NamedResource(self.kind, self.namespace, self.name)


class ObjectMemo:
    """What functions of one object's data return, worked out once per object for one check.

    Several rules and the graph ask the same questions of an object (what it creates, what its values
    reference), and clusters built from the same folders share their objects' data. Keyed by the
    function and the identity of ``res.obj``: the functions read nothing else, and nothing changes an
    object's data once built (the expansion asks only of finished objects). The data is kept with its
    entry so that its identity cannot be reused while the memo lives; a memo lives as long as its Flux
    tree (:attr:`~homeops.flux.tree.FluxTree.memo`).
    """

    __slots__ = ("_found",)

    def __init__(self) -> None:
        self._found: dict[Callable[[Resource], Any], dict[int, tuple[dict[str, Any], Any]]] = {}

    def __call__(self, compute: Callable[[Resource], T], res: Resource) -> T:
        table = self._found.get(compute)
        if table is None:
            table = self._found[compute] = {}
        found = table.get(id(res.obj))
        if found is None:
            found = table[id(res.obj)] = (res.obj, compute(res))
        value: T = found[1]
        return value


class View:
    """A typed, read-only view of one resource; the kinds in flux.py and kinds.py extend it.

    A plain slotted class rather than a dataclass: views hold nothing but the resource, compare by it,
    and there are dozens of kinds, each of which would cost a dataclass's creation at import time.
    """

    __slots__ = ("res",)

    def __init__(self, res: Resource) -> None:
        self.res = res

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and isinstance(other, View) and other.res is self.res

    def __hash__(self) -> int:
        return hash((type(self), id(self.res)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.res.id})"

    @property
    def id(self) -> NamedResource:
        return self.res.id

    @property
    def origin(self) -> Origin:
        return self.res.origin

    @property
    def name(self) -> str:
        return self.res.name

    @property
    def namespace(self) -> str:
        return self.res.namespace

    @property
    def spec(self) -> Mapping[str, Any]:
        spec = self.res.obj.get("spec")
        return spec if isinstance(spec, dict) else {}


def deep_copy(value: Any) -> Any:
    """Copy JSON-like data (dicts, lists, scalars) much faster than :func:`copy.deepcopy`."""
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_copy(v) for v in value]
    return value


def merge_maps(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """fluxcd/pkg's ``MergeMaps`` (Helm values, ArtifactGenerator's Merge strategy): a new mapping,
    ``overlay`` winning, maps merged deeply; what is not merged (a mapping only one side has, a list)
    is shared with the input, not copied."""
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict):
            have = out.get(key)
            if isinstance(have, dict):
                out[key] = merge_maps(have, value)
                continue
        out[key] = value
    return out


def get_path(data: Any, *path: str | int) -> Any:
    """The value at ``path`` inside nested mappings and lists, or None when any step is missing."""
    current = data
    for part in path:
        if isinstance(part, int):
            if not isinstance(current, list) or not -len(current) <= part < len(current):
                return None
            current = current[part]
        else:
            if not isinstance(current, dict):
                return None
            current = current.get(part)
            if current is None:
                return None
    return current


def strings(value: Any) -> Iterator[str]:
    """Every string inside loaded YAML (mapping values and list items, depth first)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
