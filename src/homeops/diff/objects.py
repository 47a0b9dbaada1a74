"""Compare what two revisions render, object by object.

Objects are matched by (group, kind, namespace, name). Inside an object, lists whose items all carry a
``name`` (containers, env, ports, volumes) — or another identifying key (``mountPath``,
``containerPort``) — are compared by that key, so reordering them is not a change. Noisy fields that
change on every chart bump (``helm.sh/chart`` labels, ``checksum/*`` annotations) are ignored by
default; more can be ignored by configuration.

Each side is a set of producers (Flux Kustomizations and HelmReleases), each rendered or failed. A
producer that fails to render on either side is reported as such and contributes no object changes:
a failure is never shown as the deletion of everything it used to produce.

A change to a CRD from a chart's ``crds/`` folder carries a note when helm-controller will not apply it:
on an upgrade ``spec.upgrade.crds`` decides (Skip by default), and Helm never deletes such CRDs.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..render.release import CRDS_ON_UPGRADE_ANNOTATION

#: Field patterns ignored unless configured otherwise (``*`` matches one path segment).
DEFAULT_IGNORES: tuple[str, ...] = (
    "metadata.labels.helm.sh/chart",
    "metadata.labels.app.kubernetes.io/version",
    "metadata.labels.chart",
    "metadata.annotations.checksum/*",
    "spec.template.metadata.labels.helm.sh/chart",
    "spec.template.metadata.labels.app.kubernetes.io/version",
    "spec.template.metadata.annotations.checksum/*",
    "metadata.annotations.homeops.dev/*",
)

_LIST_KEYS = ("name", "mountPath", "containerPort", "devicePath", "ip")


@dataclass(frozen=True, slots=True, order=True)
class ObjectKey:
    group: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ObjectKey:
        api = str(obj.get("apiVersion", ""))
        group = api.rsplit("/", 1)[0] if "/" in api else ""
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        assert isinstance(meta, dict)
        return cls(
            group, str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name") or "")
        )

    def __str__(self) -> str:
        kind = f"{self.kind}.{self.group}" if self.group else self.kind
        return f"{kind}/{self.namespace}/{self.name}" if self.namespace else f"{kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class Rendered:
    """What one producer rendered on one side: its objects, or why it could not be rendered."""

    producer: str
    objects: tuple[Mapping[str, Any], ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FieldChange:
    path: tuple[str | int, ...]
    before: Any
    after: Any
    """``MISSING`` on either side when the field was added or removed."""


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


@dataclass(frozen=True, slots=True)
class ObjectChange:
    key: ObjectKey
    producer: str
    status: str
    """added, removed or changed."""
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    fields: tuple[FieldChange, ...] = ()
    note: str | None = None
    """What the controller will do differently from what the diff shows (chart CRDs on upgrade)."""


@dataclass(frozen=True, slots=True)
class ProducerFailure:
    producer: str
    side: str
    """base or head."""
    error: str


@dataclass(slots=True)
class DiffResult:
    changes: list[ObjectChange] = field(default_factory=list)
    failures: list[ProducerFailure] = field(default_factory=list)
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        return not self.changes and not self.failures

    def by_producer(self) -> dict[str, list[ObjectChange]]:
        out: dict[str, list[ObjectChange]] = {}
        for change in self.changes:
            out.setdefault(change.producer, []).append(change)
        return out


def diff(
    base: Iterable[Rendered],
    head: Iterable[Rendered],
    *,
    ignore: Sequence[str] = DEFAULT_IGNORES,
) -> DiffResult:
    """Every object added, removed or changed between two renders."""
    base_map = {r.producer: r for r in base}
    head_map = {r.producer: r for r in head}
    result = DiffResult()
    failed: set[str] = set()
    for side, table in (("base", base_map), ("head", head_map)):
        for name, rendered in table.items():
            if rendered.error is not None:
                failed.add(name)
                result.failures.append(ProducerFailure(name, side, rendered.error))
    before = _objects(base_map, failed)
    after = _objects(head_map, failed)
    upgraded = {name for name in base_map if name not in failed}
    for key in sorted(set(before) | set(after)):
        old = before.get(key)
        new = after.get(key)
        if old is None and new is not None:
            note = _crd_note("added", new[1], new[0] in upgraded)
            result.changes.append(ObjectChange(key, new[0], "added", None, new[1], note=note))
        elif new is None and old is not None:
            note = _crd_note("removed", old[1], True)
            result.changes.append(ObjectChange(key, old[0], "removed", old[1], None, note=note))
        elif old is not None and new is not None:
            fields = tuple(compare(strip(old[1], ignore), strip(new[1], ignore)))
            if fields:
                note = _crd_note("changed", new[1], True)
                result.changes.append(ObjectChange(key, new[0], "changed", old[1], new[1], fields, note))
            else:
                result.unchanged += 1
    result.failures.sort(key=lambda f: (f.producer, f.side))
    return result


def _crd_note(status: str, obj: Mapping[str, Any], upgrade: bool) -> str | None:
    """Why helm-controller will not apply this change to a chart's ``crds/`` CRD, or None."""
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    policy = annotations.get(CRDS_ON_UPGRADE_ANNOTATION) if isinstance(annotations, dict) else None
    if policy is None:
        return None
    if status == "removed":
        return "Helm never deletes a CRD installed from a chart's crds/ folder: it stays in the cluster"
    if not upgrade or policy == "CreateReplace":
        return None
    if policy == "Create" and status == "added":
        return None
    if policy == "Create":
        return (
            "not applied: the release's upgrade.crds is Create, which only creates missing CRDs; "
            "set it to CreateReplace to roll this change out"
        )
    return (
        f"not applied: the release's upgrade.crds is {policy} (Flux's default is Skip), so an upgrade "
        "leaves CRDs alone; set it to CreateReplace to roll this change out"
    )


def _objects(
    table: Mapping[str, Rendered], failed: set[str]
) -> dict[ObjectKey, tuple[str, Mapping[str, Any]]]:
    out: dict[ObjectKey, tuple[str, Mapping[str, Any]]] = {}
    for name, rendered in sorted(table.items()):
        if name in failed:
            continue
        for obj in rendered.objects:
            out[ObjectKey.of(obj)] = (name, obj)
    return out


def strip(obj: Mapping[str, Any], patterns: Sequence[str]) -> Any:
    """A copy of ``obj`` without the fields matching ``patterns`` (dotted, ``*`` per segment)."""
    split = [p.split(".") for p in patterns]
    return _strip(obj, (), _merge_dotted(split))


def _merge_dotted(patterns: list[list[str]]) -> list[list[str]]:
    # Label keys contain dots (app.kubernetes.io/version): re-join segments after labels/annotations.
    out = []
    for parts in patterns:
        merged: list[str] = []
        i = 0
        while i < len(parts):
            merged.append(parts[i])
            if parts[i] in ("labels", "annotations") and i + 1 < len(parts):
                merged.append(".".join(parts[i + 1 :]))
                break
            i += 1
        out.append(merged)
    return out


def _strip(value: Any, path: tuple[str, ...], patterns: list[list[str]]) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            here = (*path, str(key))
            if any(_matches(p, here) for p in patterns):
                continue
            out[key] = _strip(item, here, patterns)
        return out
    if isinstance(value, list):
        return [_strip(item, path, patterns) for item in value]
    return value


def _matches(pattern: list[str], path: tuple[str, ...]) -> bool:
    return len(pattern) == len(path) and all(
        fnmatch.fnmatchcase(p, q) for q, p in zip(pattern, path, strict=True)
    )


def _list_key(items: list[Any]) -> str | None:
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in _LIST_KEYS:
        values = [i.get(key) for i in items]
        if all(v is not None for v in values) and len(set(map(str, values))) == len(values):
            return key
    return None


def compare(old: Any, new: Any, path: tuple[str | int, ...] = ()) -> list[FieldChange]:
    """Field-level differences; keyed lists are matched by their key."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[FieldChange] = []
        for key in sorted(set(old) | set(new), key=str):
            if key not in new:
                out.append(FieldChange((*path, key), old[key], MISSING))
            elif key not in old:
                out.append(FieldChange((*path, key), MISSING, new[key]))
            else:
                out.extend(compare(old[key], new[key], (*path, key)))
        return out
    if isinstance(old, list) and isinstance(new, list):
        key = _list_key(old) if old else _list_key(new)
        if key is not None and (not new or _list_key(new) == key) and (not old or _list_key(old) == key):
            old_map = {str(i[key]): i for i in old}
            new_map = {str(i[key]): i for i in new}
            return compare(old_map, new_map, (*path, f"[{key}]"))
        if old != new:
            return [FieldChange(path, old, new)]
        return []
    if old != new or type(old) is not type(new):
        return [FieldChange(path, old, new)]
    return []
