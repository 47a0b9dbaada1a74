"""The field-setting transformers: namespace, name prefix and suffix, labels, annotations, images,
replicas. Each follows the matching kustomize v5 builtin, field spec by field spec.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from .fieldspec import MAP, MISSING, SCALAR, FieldSpec, FieldSpecError, Path, parse_gv, walk
from .kfile import ImageSpec, LabelSpec, ReplicaSpec
from .resid import Res, text


class TransformError(Exception):
    """A transformer could not apply (the caller adds file and line)."""


def _set_scalar(res: Res, path: Path, value: Any) -> None:
    res.writable(path[:-1])[path[-1]] = value


def _walk(res: Res, spec: FieldSpec, setter: Any, create_kind: str | None) -> None:
    if spec.matches_object(res.api_version, res.kind):
        _walk_matched(res, spec, setter, create_kind)


def _walk_matched(res: Res, spec: FieldSpec, setter: Any, create_kind: str | None) -> None:
    """:func:`_walk` for a spec already known to apply to the object (see :class:`_Applicable`)."""
    try:
        walk(res, spec, setter, create_kind)
    except FieldSpecError as exc:
        raise TransformError(f"{res.kind} {res.name!r}: {exc} (field {spec.path})") from None


def _applicable(specs: Sequence[FieldSpec]) -> _Applicable:
    """The :class:`_Applicable` of these specs, kept: builds run the same transformers again and again."""
    key = tuple(specs)
    found = _APPLICABLE.get(key)
    if found is None:
        if len(_APPLICABLE) >= 1000:
            _APPLICABLE.clear()
        found = _APPLICABLE[key] = _Applicable(key)
    return found


class _Applicable:
    """The field specs of a transformer that apply to an object, worked out once per apiVersion and
    kind: a transformer runs every spec over every object, and a build's objects share a few kinds."""

    __slots__ = ("_by_type", "_retyping", "_specs")

    def __init__(self, specs: Sequence[FieldSpec]) -> None:
        self._specs = specs
        self._by_type: dict[tuple[str, str], list[FieldSpec]] = {}
        # A spec writing apiVersion or kind could change which later specs apply: such objects are
        # matched spec by spec, just before each walk.
        self._retyping = any(s.parts[0].removesuffix("[]") in ("apiVersion", "kind") for s in specs)

    def __call__(self, res: Res) -> Iterable[FieldSpec]:
        if self._retyping:
            return (spec for spec in self._specs if spec.matches_object(res.api_version, res.kind))
        key = (res.api_version, res.kind)
        found = self._by_type.get(key)
        if found is None:
            group, version = parse_gv(key[0])
            found = self._by_type[key] = [s for s in self._specs if s.selects(group, version, key[1])]
        return found


_APPLICABLE: dict[tuple[FieldSpec, ...], _Applicable] = {}


# -- namespace ---------------------------------------------------------------------------------------


def set_namespace(resources: Sequence[Res], namespace: str, specs: Sequence[FieldSpec]) -> None:
    """kustomize's NamespaceTransformer (default mode: role-binding subjects named ``default``)."""
    applicable = _applicable(specs)
    setter = _namespace_setter(namespace)
    for res in resources:
        if not res.obj:
            continue
        res.store_previous_id()
        if not res.cluster_scoped():
            res.writable_map(("metadata",))["namespace"] = namespace
        kind = res.kind
        if kind in ("RoleBinding", "ClusterRoleBinding"):
            _default_subjects(res, namespace)
        for spec in applicable(res):
            if spec.path == "metadata/namespace":
                continue
            if spec.path == "metadata/name" and res.api_version != "v1":
                continue
            if (
                kind in ("RoleBinding", "ClusterRoleBinding")
                and spec.kind == kind
                and spec.path == "subjects/namespace"
            ):
                continue
            _walk_matched(res, spec, setter, SCALAR)
    seen: dict[Any, Res] = {}
    for res in resources:
        key = res.cur_id()
        if key in seen:
            raise TransformError(
                f"setting namespace {namespace!r} makes two objects the same: {res.kind} {res.name!r}"
            )
        seen[key] = res


def _namespace_setter(namespace: str) -> Any:
    def setter(res: Res, path: Path, value: Any) -> None:
        # a tuple of types, not `X | Y`: that builds a union object at every call (a hot path)
        if isinstance(value, (dict, list)):
            raise FieldSpecError("namespace field specs must target scalar fields")
        _set_scalar(res, path, namespace)

    return setter


def _default_subjects(res: Res, namespace: str) -> None:
    subjects = res.obj.get("subjects")
    if not isinstance(subjects, list):
        return
    for i, subject in enumerate(subjects):
        if isinstance(subject, dict) and text(subject.get("name")) == "default":
            res.writable(("subjects", i))["namespace"] = namespace


# -- prefix / suffix ---------------------------------------------------------------------------------

_AFFIX_SKIP = (("CustomResourceDefinition", ""), ("APIService", "apiregistration.k8s.io"), ("Namespace", ""))


def add_affix(resources: Sequence[Res], affix: str, specs: Sequence[FieldSpec], *, suffix: bool) -> None:
    """kustomize's PrefixTransformer / SuffixTransformer."""
    for res in resources:
        group, version, kind, _name, _ns = res.org_id()
        if any(kind == k and (not g or g == group) for k, g in _AFFIX_SKIP):
            continue
        for spec in specs:
            if not spec.selects(group, version, kind):
                continue
            if spec.path == "metadata/name":
                (res.suffixes if suffix else res.prefixes).append(affix)
                res.store_previous_id()

            def setter(res: Res, path: Path, value: Any) -> None:
                if isinstance(value, (dict, list)):
                    raise FieldSpecError("name field specs must target scalar fields")
                current = "" if value is MISSING or value is None else text(value)
                _set_scalar(res, path, current + affix if suffix else affix + current)

            _walk(res, spec, setter, SCALAR)


# -- labels and annotations --------------------------------------------------------------------------


def set_entries(
    resources: Sequence[Res], pairs: Sequence[tuple[str, str]], specs: Sequence[FieldSpec]
) -> None:
    """kustomize's LabelTransformer / AnnotationsTransformer: set map entries at each field."""
    if not pairs:
        return
    entries = sorted(pairs)

    def setter(res: Res, path: Path, value: Any) -> None:
        if value is not MISSING and value is not None and not isinstance(value, dict):
            raise FieldSpecError(f"expected a mapping at {'.'.join(str(p) for p in path)}")
        target = res.writable_map(path)
        for key, val in entries:
            target[key] = val

    applicable = _applicable(specs)
    for res in resources:
        for spec in applicable(res):
            _walk_matched(res, spec, setter, MAP)


def label_specs(
    label: LabelSpec, common: Sequence[FieldSpec], template: Sequence[FieldSpec]
) -> list[FieldSpec]:
    """The field specs one ``labels`` entry writes to."""
    specs = list(label.fields)

    def merge(more: Sequence[FieldSpec]) -> None:
        for spec in more:
            key = (spec.kind, spec.group, spec.version, spec.path)
            if not any((s.kind, s.group, s.version, s.path) == key for s in specs):
                specs.append(spec)

    if label.include_selectors:
        merge(common)
    else:
        if label.include_templates:
            merge(template)
        merge([FieldSpec(path="metadata/labels", create=True)])
    return specs


# -- images ------------------------------------------------------------------------------------------


def set_images(resources: Sequence[Res], image: ImageSpec, specs: Sequence[FieldSpec]) -> None:
    """kustomize's ImageTagTransformer: every container list found anywhere, then the field specs."""
    try:
        pattern = re.compile("^" + image.name + r"(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$")
    except re.error:
        raise TransformError(f"image name {image.name!r} is not a valid pattern") from None

    def update(value: Any) -> str | None:
        if not isinstance(value, str) or not pattern.match(value):
            return None
        return _new_image(value, image)

    applicable = _applicable(specs)
    for res in resources:
        if res.kind == "CustomResourceDefinition":
            continue
        _legacy_images(res, res.obj, (), update)

        def setter(res: Res, path: Path, value: Any) -> None:
            if isinstance(value, (dict, list)):
                raise FieldSpecError("image field specs must target scalar fields")
            new = update(text(value) if value is not MISSING and value is not None else "")
            if new is not None:
                _set_scalar(res, path, new)

        for spec in applicable(res):
            _walk_matched(res, spec, setter, None)


def _legacy_images(res: Res, node: Any, path: Path, update: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                _legacy_images(res, value, (*path, key), update)
            if key in ("containers", "initContainers") and isinstance(value, list):
                for i, container in enumerate(value):
                    if isinstance(container, dict) and "image" in container:
                        new = update(container["image"])
                        if new is not None:
                            res.writable((*path, key, i))["image"] = new
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, (dict, list)):
                _legacy_images(res, value, (*path, i), update)


def split_image(value: str) -> tuple[str, str, str]:
    """(name, tag, digest) of an image reference, kustomize's way."""
    slash = value.find("/")
    offset = slash if slash > 0 else 0
    search = value[offset:]
    at = search.find("@")
    colon = search.find(":")
    if colon < 0 and at < 0:
        return value, "", ""
    if at >= 0 and (at < colon or colon < 0):
        at += offset
        return value[:at], "", value[at + 1 :]
    if at >= 0 and colon >= 0:
        at += offset
        colon += offset
        return value[:colon], value[colon + 1 : at], value[at + 1 :]
    colon += offset
    return value[:colon], value[colon + 1 :], ""


def _new_image(value: str, image: ImageSpec) -> str:
    name, tag, digest = split_image(value)
    if image.new_name:
        name = image.new_name
    if image.new_tag and image.digest:
        tag, digest = image.new_tag, image.digest
    elif image.new_tag:
        tag, digest = image.new_tag, ""
    elif image.digest:
        tag, digest = "", image.digest
    if tag:
        name += ":" + tag
    if digest:
        name += "@" + digest
    return name


# -- replicas ----------------------------------------------------------------------------------------


def set_replicas(resources: Sequence[Res], replica: ReplicaSpec, specs: Sequence[FieldSpec]) -> None:
    """kustomize's ReplicaCountTransformer (an entry matching nothing is an error)."""
    found = False

    def setter(res: Res, path: Path, value: Any) -> None:
        if isinstance(value, (dict, list)):
            raise FieldSpecError("replica field specs must target scalar fields")
        _set_scalar(res, path, replica.count)

    for spec in specs:
        matched = [
            res
            for res in resources
            if any(id_[3] == replica.name and spec.selects(id_[0], id_[1], id_[2]) for id_ in res.all_ids())
        ]
        if matched:
            found = True
        for res in matched:
            _walk(res, spec, setter, SCALAR)
    if not found:
        kinds = ", ".join(spec.kind or "any kind" for spec in specs)
        raise TransformError(f"replicas: no {kinds} object is named {replica.name!r}")
