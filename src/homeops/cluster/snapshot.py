"""Snapshots: a cluster's objects as one Kubernetes ``List``, written once and replayed anywhere.

A snapshot is a JSON file ``{"apiVersion": "v1", "kind": "List", "items": [...]}``: what ``homeops
snapshot save`` records, and also what ``kubectl get ... -A -o json`` prints, so either can be read
back. Several files, or a folder of them, are merged (an object met twice is kept once, the later
file wins). Whatever is read is cleaned the same way: ``managedFields`` and kubectl's
last-applied annotation go, and a Secret or ConfigMap keeps the names of its keys but never a value.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import UsageError, Where
from ..load import jsonio
from ..load.walk import inside
from ..records import NamedTuple

KEYS_ANNOTATION = "homeops.dev/data-keys"
"""On a Secret or ConfigMap of a snapshot: the names of the keys whose values were left out."""
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
SNAPSHOT_FIELD = "homeops"
"""Top-level field of a snapshot written by homeops: when and from where it was taken."""
_SUFFIXES = (".json", ".yaml", ".yml")


class Snapshot(NamedTuple):
    """The objects of one cluster at one moment."""

    items: list[dict[str, Any]]
    source: str
    """Where the objects came from, for messages: the files, or the kube context."""
    taken_at: datetime | None = None
    """When they were read (None when a file does not say: see :meth:`now`)."""
    unavailable: tuple[str, ...] = ()
    """Kinds the cluster does not serve or would not list (``HelmRelease.helm.toolkit.fluxcd.io``)."""

    def now(self) -> datetime:
        """The moment the snapshot describes: when it was taken, else its latest timestamp."""
        if self.taken_at is not None:
            return self.taken_at
        latest = latest_timestamp(self.items)
        return latest if latest is not None else datetime.now(UTC)

    def to_json(self) -> str:
        payload: dict[str, Any] = {"apiVersion": "v1", "kind": "List", "items": self.items}
        payload[SNAPSHOT_FIELD] = {
            "takenAt": format_time(self.taken_at) if self.taken_at else None,
            "source": self.source,
            "unavailable": list(self.unavailable),
        }
        return json.dumps(payload, indent=1, sort_keys=False) + "\n"


def clean(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as a snapshot keeps it (a copy when anything is removed; the input is not changed)."""
    meta = obj.get("metadata")
    kind = obj.get("kind")
    is_data = kind in ("Secret", "ConfigMap") and obj.get("apiVersion") == "v1"
    if not isinstance(meta, dict):
        return obj
    annotations = meta.get("annotations")
    noisy = "managedFields" in meta or (isinstance(annotations, dict) and LAST_APPLIED in annotations)
    if not (noisy or is_data):
        return obj
    out = dict(obj)
    meta = dict(meta)
    meta.pop("managedFields", None)
    if isinstance(annotations, dict):
        annotations = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
        meta["annotations"] = annotations
    if is_data:
        keys = sorted(
            {str(k) for field in ("data", "stringData", "binaryData") for k in _mapping(out.pop(field, None))}
        )
        if keys:
            annotations = dict(meta.get("annotations") or {})
            annotations[KEYS_ANNOTATION] = ",".join(keys)
            meta["annotations"] = annotations
    out["metadata"] = meta
    return out


def data_keys(obj: Mapping[str, Any]) -> frozenset[str]:
    """The keys of a snapshot's Secret or ConfigMap (their values are never kept)."""
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    value = annotations.get(KEYS_ANNOTATION) if isinstance(annotations, dict) else None
    return frozenset(k for k in str(value).split(",") if k) if value else frozenset()


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def identity(obj: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """(API group, kind, namespace, name): what makes two copies of an object the same object."""
    api_version = obj.get("apiVersion")
    group = api_version.rsplit("/", 1)[0] if isinstance(api_version, str) and "/" in api_version else ""
    meta = _mapping(obj.get("metadata"))
    return group, str(obj.get("kind") or ""), str(meta.get("namespace") or ""), str(meta.get("name") or "")


def load_snapshot(paths: Sequence[str | Path]) -> Snapshot:
    """Read and merge snapshot files (or folders of them); raises :class:`UsageError` for a missing path."""
    merged: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    taken: list[datetime] = []
    unavailable: list[str] = []
    files = list(_files(paths))
    for path in files:
        document = _read(path)
        header = _mapping(document.get(SNAPSHOT_FIELD)) if isinstance(document, dict) else {}
        when = parse_time(header.get("takenAt"))
        if when is not None:
            taken.append(when)
        unavailable.extend(str(k) for k in header.get("unavailable") or () if isinstance(k, str))
        for obj in _objects(document, path):
            merged[identity(obj)] = clean(obj)
    source = ", ".join(str(p) for p in files)
    return Snapshot(
        list(merged.values()), source, max(taken) if taken else None, tuple(sorted(set(unavailable)))
    )


def _files(paths: Sequence[str | Path]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            # a folder someone sent: a symlink in it leading elsewhere on this machine is not read
            real = os.path.realpath(path)
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix in _SUFFIXES and inside(real, str(p))
            )
            if not found:
                raise UsageError(f"{path}: no snapshot files (*.json, *.yaml) in this folder")
            yield from found
        elif path.is_file():
            yield path
        else:
            raise UsageError(
                f"{path}: no such snapshot file or folder",
                hint="take one with 'homeops snapshot save FILE', or 'kubectl get ... -A -o json > FILE'",
            )


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read snapshot: {exc}", where=Where(str(path))) from exc
    if path.suffix == ".json" or text.lstrip().startswith(("{", "[")):
        try:
            return jsonio.loads(text)
        except jsonio.TooDeep as exc:
            raise UsageError(f"not a snapshot: {exc}", where=Where(str(path))) from exc
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"not valid JSON: {exc.msg}",
                where=Where(str(path), exc.lineno),
                hint="a snapshot is the JSON of a Kubernetes List (kubectl get ... -o json)",
            ) from exc
    from ..load import yamlio

    parsed = yamlio.parse(text)  # alias expansion and nesting bounded
    if parsed.failure is not None:
        raise UsageError(
            f"not valid JSON or YAML: {parsed.failure.reason}", where=Where(str(path), parsed.failure.line)
        )
    documents = [d for d in parsed.documents if d is not None]
    return {"apiVersion": "v1", "kind": "List", "items": documents}


def _objects(document: Any, path: Path) -> Iterator[dict[str, Any]]:
    """The objects of a List (also ``PodList`` and the like, whose items name no kind) or of one object."""
    if not isinstance(document, dict) or not isinstance(document.get("kind"), str):
        raise UsageError(
            "not a Kubernetes List or object",
            where=Where(str(path), 1),
            hint="a snapshot is the JSON of a Kubernetes List (kubectl get ... -o json)",
        )
    kind = str(document["kind"])
    items = document.get("items")
    if not kind.endswith("List") or not isinstance(items, list):
        if isinstance(document.get("metadata"), dict):
            yield document
        return
    item_kind = kind[: -len("List")] if kind != "List" else None
    api_version = document.get("apiVersion")
    for item in items:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("items"), list) and str(item.get("kind", "")).endswith("List"):
            yield from _objects(item, path)
            continue
        if item_kind and "kind" not in item:  # a raw API list response: items carry no kind
            item = {"apiVersion": api_version, "kind": item_kind, **item}
        if isinstance(item.get("kind"), str) and isinstance(item.get("metadata"), dict):
            yield item


def latest_timestamp(items: Iterable[Mapping[str, Any]]) -> datetime | None:
    """The latest event or condition time among the objects (when a file does not say when it was taken)."""
    latest: datetime | None = None
    for obj in items:
        candidates: list[Any] = [obj.get("lastTimestamp"), obj.get("eventTime")]
        status = obj.get("status")
        if isinstance(status, dict):
            for cond in status.get("conditions") or ():
                if isinstance(cond, dict):
                    candidates.append(cond.get("lastTransitionTime"))
        for value in candidates:
            when = parse_time(value)
            if when is not None and (latest is None or when > latest):
                latest = when
    return latest


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as Kubernetes writes it, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
