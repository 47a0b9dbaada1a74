"""A snapshot indexed for questions: objects by identity, events by object, pods by owner, secrets by
producer, and what each Flux object applies. Built once per command, in one pass over the objects."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from ..cluster.snapshot import Snapshot, parse_time
from ..records import NamedTuple

FLUX_KS_LABEL = "kustomize.toolkit.fluxcd.io/name"
FLUX_KS_NS_LABEL = "kustomize.toolkit.fluxcd.io/namespace"
FLUX_HR_LABEL = "helm.toolkit.fluxcd.io/name"
FLUX_HR_NS_LABEL = "helm.toolkit.fluxcd.io/namespace"

#: Kinds without a namespace: their identity has ``""`` there.
CLUSTER_SCOPED = frozenset({"ClusterSecretStore", "StorageClass", "Namespace", "PersistentVolume", "Node"})


class Ref(NamedTuple):
    """Identity of a live object (the API group is left out: no two kinds homeops reads share a name)."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


def ref_of(obj: Mapping[str, Any]) -> Ref:
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    kind = str(obj.get("kind") or "")
    namespace = "" if kind in CLUSTER_SCOPED else str(meta.get("namespace") or "")
    return Ref(kind, namespace, str(meta.get("name") or ""))


def get(data: Any, *path: str | int) -> Any:
    current = data
    for part in path:
        if isinstance(part, int):
            current = (
                current[part] if isinstance(current, list) and -len(current) <= part < len(current) else None
            )
        else:
            current = current.get(part) if isinstance(current, dict) else None
        if current is None:
            return None
    return current


def labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    found = get(obj, "metadata", "labels")
    return found if isinstance(found, dict) else {}


def condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    found = get(obj, "status", "conditions")
    for cond in found if isinstance(found, list) else ():
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


class View:
    """The objects of one snapshot, with the indexes every question needs."""

    def __init__(self, snapshot: Snapshot, now: datetime | None = None) -> None:
        self.snapshot = snapshot
        self.now = now or snapshot.now()
        self.objects: dict[Ref, dict[str, Any]] = {}
        self.events: dict[Ref, list[dict[str, Any]]] = defaultdict(list)
        self.by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.by_uid: dict[str, Ref] = {}
        self.applied_by: dict[Ref, list[Ref]] = defaultdict(list)
        """Flux Kustomization or HelmRelease → the objects that carry its labels."""
        self.secret_producers: dict[tuple[str, str], Ref] = {}
        """(namespace, Secret name) → the ExternalSecret that writes it."""
        for obj in snapshot.items:
            ref = ref_of(obj)
            if ref.kind == "Event":
                involved = obj.get("involvedObject") or obj.get("regarding")
                if isinstance(involved, dict):
                    kind = str(involved.get("kind") or "")
                    namespace = "" if kind in CLUSTER_SCOPED else str(involved.get("namespace") or "")
                    self.events[Ref(kind, namespace, str(involved.get("name") or ""))].append(obj)
                continue
            self.objects[ref] = obj
            self.by_kind[ref.kind].append(obj)
            uid = get(obj, "metadata", "uid")
            if isinstance(uid, str):
                self.by_uid[uid] = ref
            own = labels(obj)
            if FLUX_KS_LABEL in own:
                self.applied_by[
                    Ref("Kustomization", own.get(FLUX_KS_NS_LABEL, ""), own[FLUX_KS_LABEL])
                ].append(ref)
            if FLUX_HR_LABEL in own:
                self.applied_by[Ref("HelmRelease", own.get(FLUX_HR_NS_LABEL, ""), own[FLUX_HR_LABEL])].append(
                    ref
                )
            if ref.kind == "ExternalSecret":
                target = get(obj, "spec", "target", "name") or ref.name
                self.secret_producers[(ref.namespace, str(target))] = ref
        self._pods_of: dict[Ref, list[Ref]] | None = None

    def get(self, ref: Ref) -> dict[str, Any] | None:
        return self.objects.get(ref)

    def of_kind(self, *kinds: str) -> Iterator[tuple[Ref, dict[str, Any]]]:
        for kind in kinds:
            for obj in self.by_kind.get(kind, ()):
                yield ref_of(obj), obj

    def events_of(self, ref: Ref, *, warnings_only: bool = True) -> list[dict[str, Any]]:
        """Events about an object, latest first."""
        found = [e for e in self.events.get(ref, ()) if not warnings_only or e.get("type") == "Warning"]
        return sorted(
            found, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""), reverse=True
        )

    def pods_of(self, workload: Ref) -> list[Ref]:
        """The pods a Deployment, StatefulSet, DaemonSet, ReplicaSet or Job runs (by owner references,
        through ReplicaSets; by selector when the snapshot has no owners)."""
        if self._pods_of is None:
            self._pods_of = defaultdict(list)
            for ref, obj in self.of_kind("Pod"):
                for owner in self._owners(obj, ref.namespace):
                    self._pods_of[owner].append(ref)
                    parent = self.objects.get(owner)
                    if parent is not None and owner.kind == "ReplicaSet":  # Deployment → ReplicaSet → Pod
                        for grand in self._owners(parent, ref.namespace):
                            self._pods_of[grand].append(ref)
        found = self._pods_of.get(workload)
        if found:
            return found
        selector = get(self.objects.get(workload), "spec", "selector", "matchLabels")
        if not isinstance(selector, dict) or not selector:
            return []
        return [
            ref
            for ref, pod in self.of_kind("Pod")
            if ref.namespace == workload.namespace
            and all(labels(pod).get(k) == v for k, v in selector.items())
        ]

    def _owners(self, obj: Mapping[str, Any], namespace: str) -> Iterable[Ref]:
        owners = get(obj, "metadata", "ownerReferences")
        for owner in owners if isinstance(owners, list) else ():
            if not isinstance(owner, dict):
                continue
            uid = owner.get("uid")
            if isinstance(uid, str) and uid in self.by_uid:
                yield self.by_uid[uid]
            else:
                yield Ref(str(owner.get("kind") or ""), namespace, str(owner.get("name") or ""))

    def workloads_of(self, release: Ref) -> list[Ref]:
        """What a HelmRelease installed that runs pods."""
        return [r for r in self.applied_by.get(release, ()) if r.kind in _WORKLOADS]

    def age(self, value: Any) -> float | None:
        """Seconds between a timestamp and the snapshot's moment."""
        when = parse_time(value)
        return (self.now - when).total_seconds() if when is not None else None


_WORKLOADS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod"})
