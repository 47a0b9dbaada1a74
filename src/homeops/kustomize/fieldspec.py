"""Field specs: which fields of which kinds a transformer touches, and how kustomize walks to them.

:func:`walk` follows a field spec's path through one object the way kustomize's fieldspec filter
does: lists on the way are entered element by element, missing mappings are created only when the
spec says ``create``, and a null on the way takes the shape the walk expects. Writes go through the
object's copy-on-write wrapper, so untouched objects keep sharing the parsed source data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from ..records import NamedTuple, Record
from . import specdata
from .resid import Res


class FieldSpecError(Exception):
    """A field spec met a value of the wrong shape (the caller adds file and object)."""


class FieldSpec(NamedTuple):
    kind: str = ""
    group: str = ""
    version: str = ""
    path: str = ""
    create: bool = False

    @property
    def parts(self) -> tuple[str, ...]:
        return split_path(self.path)

    def selects(self, group: str, version: str, kind: str) -> bool:
        """Whether an object of this group/version/kind is one the spec applies to (empty = any)."""
        return (
            (not self.kind or self.kind == kind)
            and (not self.group or self.group == group)
            and (not self.version or self.version == version)
        )

    def matches_object(self, api_version: str, kind: str) -> bool:
        group, version = parse_gv(api_version)
        return self.selects(group, version, kind)


class NameBackReference(NamedTuple):
    """Objects of a target kind, and the fields of other objects that refer to them by name."""

    kind: str
    group: str
    version: str
    referrers: tuple[FieldSpec, ...]


class TransformerConfig(Record):
    """The field specs in force for one build (built-ins merged with ``configurations``)."""

    __slots__ = (
        "_referrers",
        "common_annotations",
        "common_labels",
        "images",
        "name_prefix",
        "name_reference",
        "name_suffix",
        "namespace",
        "replicas",
        "template_labels",
    )
    _uncompared = ("_referrers",)

    name_prefix: list[FieldSpec]
    name_suffix: list[FieldSpec]
    namespace: list[FieldSpec]
    common_labels: list[FieldSpec]
    template_labels: list[FieldSpec]
    common_annotations: list[FieldSpec]
    name_reference: list[NameBackReference]
    images: list[FieldSpec]
    replicas: list[FieldSpec]
    _referrers: dict[str, list[tuple[NameBackReference, FieldSpec]]] | None

    def __init__(
        self,
        name_prefix: list[FieldSpec] | None = None,
        name_suffix: list[FieldSpec] | None = None,
        namespace: list[FieldSpec] | None = None,
        common_labels: list[FieldSpec] | None = None,
        template_labels: list[FieldSpec] | None = None,
        common_annotations: list[FieldSpec] | None = None,
        name_reference: list[NameBackReference] | None = None,
        images: list[FieldSpec] | None = None,
        replicas: list[FieldSpec] | None = None,
    ) -> None:
        self.name_prefix = [] if name_prefix is None else name_prefix
        self.name_suffix = [] if name_suffix is None else name_suffix
        self.namespace = [] if namespace is None else namespace
        self.common_labels = [] if common_labels is None else common_labels
        self.template_labels = [] if template_labels is None else template_labels
        self.common_annotations = [] if common_annotations is None else common_annotations
        self.name_reference = [] if name_reference is None else name_reference
        self.images = [] if images is None else images
        self.replicas = [] if replicas is None else replicas
        self._referrers = None

    def referrers(self, kind: str) -> list[tuple[NameBackReference, FieldSpec]]:
        """The name-reference field specs that may apply to an object of ``kind``."""
        if self._referrers is None:
            index: dict[str, list[tuple[NameBackReference, FieldSpec]]] = {}
            for backref in self.name_reference:
                for spec in backref.referrers:
                    index.setdefault(spec.kind, []).append((backref, spec))
            self._referrers = index
        found = self._referrers.get(kind, [])
        anykind = self._referrers.get("", [])
        return [*found, *anykind] if anykind else found

    def copy(self) -> TransformerConfig:
        return TransformerConfig(
            list(self.name_prefix),
            list(self.name_suffix),
            list(self.namespace),
            list(self.common_labels),
            list(self.template_labels),
            list(self.common_annotations),
            list(self.name_reference),
            list(self.images),
            list(self.replicas),
        )

    def merge(self, other: TransformerConfig) -> None:
        """Add ``other``'s specs that are not already present (kustomize's config merge)."""
        if other is self:
            return
        self._referrers = None
        for name in ("name_prefix", "name_suffix", "namespace", "common_labels", "template_labels",
                     "common_annotations", "images", "replicas"):  # fmt: skip
            mine: list[FieldSpec] = getattr(self, name)
            merge_specs(mine, getattr(other, name))
        for ref in other.name_reference:
            for i, have in enumerate(self.name_reference):
                if (have.kind, have.group, have.version) == (ref.kind, ref.group, ref.version):
                    referrers = list(have.referrers)
                    merge_specs(referrers, ref.referrers)
                    self.name_reference[i] = NameBackReference(
                        have.kind, have.group, have.version, tuple(referrers)
                    )
                    break
            else:
                self.name_reference.append(ref)


def merge_specs(into: list[FieldSpec], more: Iterable[FieldSpec]) -> None:
    """Append the specs of ``more`` that ``into`` does not have (same kind, group, version and path);
    one it has with another ``create`` is a conflict."""
    # Indexed by key (the first spec of each key counts): a custom configuration is merged with the
    # built-in one, hundreds of specs against hundreds.
    have: dict[tuple[str, str, str, str], FieldSpec] = {}
    for spec in into:
        have.setdefault((spec.kind, spec.group, spec.version, spec.path), spec)
    for spec in more:
        key = (spec.kind, spec.group, spec.version, spec.path)
        found = have.get(key)
        if found is None:
            into.append(spec)
            have[key] = spec
        elif found.create != spec.create:
            raise FieldSpecError(f"conflicting field specs for path {spec.path!r}")


def _specs(rows: Iterable[tuple[Any, ...]]) -> list[FieldSpec]:
    return [FieldSpec(kind, group, version, path, create) for kind, group, version, path, create in rows]


@lru_cache(maxsize=1)
def _default() -> TransformerConfig:
    meta_name = [FieldSpec(path="metadata/name")]
    return TransformerConfig(
        name_prefix=meta_name,
        name_suffix=list(meta_name),
        namespace=_specs(specdata.NAMESPACE),
        common_labels=_specs(specdata.COMMON_LABELS),
        template_labels=_specs(specdata.TEMPLATE_LABELS),
        common_annotations=_specs(specdata.COMMON_ANNOTATIONS),
        name_reference=[
            NameBackReference(
                kind,
                group,
                version,
                tuple(FieldSpec(rk, rg, rv, rp) for rk, rg, rv, rp in referrers),
            )
            for (kind, group, version), referrers in specdata.NAME_REFERENCE
        ],
        images=_specs(specdata.IMAGES),
        replicas=_specs(specdata.REPLICAS),
    )


def default_config() -> TransformerConfig:
    """A fresh copy of the built-in configuration."""
    return _default().copy()


DEFAULT = _default()
"""The built-in configuration itself (shared: never change it, copy it)."""


_CONFIG_KEYS = {
    "namePrefix": "name_prefix",
    "nameSuffix": "name_suffix",
    "namespace": "namespace",
    "commonLabels": "common_labels",
    "templateLabels": "template_labels",
    "commonAnnotations": "common_annotations",
    "images": "images",
    "replicas": "replicas",
}


def config_from_data(data: Mapping[str, Any]) -> TransformerConfig:
    """A configuration from a ``configurations:`` file (raises ValueError on a bad shape)."""
    config = TransformerConfig()
    for key, value in data.items():
        if key in _CONFIG_KEYS:
            setattr(config, _CONFIG_KEYS[key], [spec_from_data(v) for v in _list(value, key)])
        elif key == "nameReference":
            for entry in _list(value, key):
                if not isinstance(entry, dict):
                    raise ValueError("nameReference entries must be mappings")
                config.name_reference.append(
                    NameBackReference(
                        _str(entry.get("kind")),
                        _str(entry.get("group")),
                        _str(entry.get("version")),
                        tuple(spec_from_data(v) for v in _list(entry.get("fieldSpecs"), "fieldSpecs")),
                    )
                )
        elif key == "varReference":
            continue  # only used by vars, which this engine does not implement
        else:
            raise ValueError(f"unknown field {key!r}")
    return config


def spec_from_data(data: Any) -> FieldSpec:
    if not isinstance(data, dict):
        raise ValueError("a field spec must be a mapping")
    unknown = set(data) - {"kind", "group", "version", "path", "create"}
    if unknown:
        raise ValueError(f"unknown field {sorted(unknown)[0]!r} in a field spec")
    return FieldSpec(
        _str(data.get("kind")),
        _str(data.get("group")),
        _str(data.get("version")),
        _str(data.get("path")),
        data.get("create") is True,
    )


def _list(value: Any, key: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a list")
    return value


def _str(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"expected a string, found {value!r}")
    return value


def split_path(path: str) -> tuple[str, ...]:
    """Split on ``/`` except where escaped as ``\\/``."""
    return _split_path(path)


@lru_cache(maxsize=4096)
def _split_path(path: str) -> tuple[str, ...]:
    parts: list[str] = []
    for piece in path.split("/"):
        if parts and parts[-1].endswith("\\"):
            parts[-1] = parts[-1][:-1] + "/" + piece
        else:
            parts.append(piece)
    return tuple(parts)


def parse_gv(api_version: str) -> tuple[str, str]:
    """The fieldspec filter's own split: a bare ``v1``/``v2…`` is a core version, else a group."""
    group, _, version = api_version.partition("/")
    if not version and len(group) >= 2 and group[0] == "v" and group[1] in "12":
        return "", group
    return group, version


# -- walking ---------------------------------------------------------------------------------------

MAP = "map"
SCALAR = "scalar"
SEQ = "seq"

Path = tuple[str | int, ...]
Setter = Callable[[Res, Path, Any], None]
"""Called with the object, the path of the field found (or created) and its current value."""

MISSING = object()


def walk(res: Res, spec: FieldSpec, setter: Setter, create_kind: str | None) -> None:
    """Apply ``setter`` to every field ``spec`` designates in ``res`` (GVK checked by the caller).

    ``create_kind`` is the shape of a created leaf (``MAP`` or ``SCALAR``); None never creates.
    """
    steps = _steps(spec.path)
    _walk(
        res, steps, len(steps), 0, spec.create and create_kind is not None, create_kind, setter, res.obj, ()
    )


@lru_cache(maxsize=4096)
def _steps(path: str) -> tuple[tuple[str, bool], ...]:
    """The parts of a field path, each with whether it is a list (``name[]``): worked out once, not at
    every step of every walk (every transformer walks every object)."""
    return tuple((part[:-2], True) if part.endswith("[]") else (part, False) for part in split_path(path))


def _walk(
    res: Res,
    steps: tuple[tuple[str, bool], ...],
    count: int,
    at: int,
    create: bool,
    create_kind: str | None,
    setter: Setter,
    node: Any,
    path: Path,
) -> None:
    """The walk from ``steps[at]`` on (``count`` steps in all) at ``node``, found at ``path``."""
    if at == count:
        setter(res, path, node)
        return
    if isinstance(node, list):
        for i, element in enumerate(node):
            _walk(res, steps, count, at, create, create_kind, setter, element, (*path, i))
        return
    if not isinstance(node, dict):
        raise FieldSpecError(f"expected a list or mapping at {_show(path)}")
    name, is_seq = steps[at]
    rest = at + 1 < count
    creating = create and not is_seq
    child = node.get(name, MISSING)
    here = (*path, name)
    if child is MISSING:
        if not creating:
            return
        if rest:
            res.writable_map(here)
            _walk(res, steps, count, at + 1, create, create_kind, setter, {}, here)
        elif create_kind == MAP:
            res.writable_map(here)
            setter(res, here, {})
        else:
            setter(res, here, MISSING)
        return
    if child is None:
        # kustomize retypes a null to the shape it expects there.
        if is_seq:
            res.writable(path)[name] = []
            child = []
        elif creating and (rest or create_kind == MAP):
            res.writable(path)[name] = {}
            child = {}
        elif rest:
            return  # nothing below a null to visit (kustomize does not complain either)
    _walk(res, steps, count, at + 1, create, create_kind, setter, child, here)


def _show(path: Path) -> str:
    return ".".join(str(p) for p in path) or "the object"
