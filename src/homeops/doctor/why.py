"""``why``: walk from an object down what it needs to the deepest one that is not healthy.

Each hop follows the edges Flux and Kubernetes really wait on: ``dependsOn``, the source, ``valuesFrom``
and ``substituteFrom``, what a Kustomization applies and a HelmRelease installs, the pods a workload
runs, the Secrets and claims a pod mounts, the ExternalSecret that writes a Secret and its store, an
HTTPRoute's Gateway and backend Service, a claim's StorageClass. The last hop is the root cause; the
chain ends with what happens next: the next automatic retry and when, or why nothing will retry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from ..cluster.snapshot import format_time, parse_time
from ..records import NamedTuple
from ..runtime.durations import format_duration
from ..runtime.machines import MACHINES
from ..runtime.sources import KINDS as SOURCE_KINDS
from ..runtime.workloads import POD
from .states import (
    BLOCKED,
    MISSING,
    RETRYING,
    SECRET_NOT_FOUND,
    SEVERITY,
    STALLED,
    LiveState,
    container_problems,
    state_of,
)
from .view import Ref, View, condition, get

GitOrigin = Callable[[Ref], "str | None"]
"""Where the repository defines an object (``path:line``), or None."""


class Hop(NamedTuple):
    ref: Ref
    state: LiveState
    via: str
    """The edge that leads here from the previous hop (``""`` for the first)."""
    evidence: tuple[str, ...]


class Next(NamedTuple):
    action: str
    at: datetime | None


class Why(NamedTuple):
    chain: tuple[Hop, ...]
    next: Next | None

    @property
    def root(self) -> Hop:
        return self.chain[-1]


class Explainer:
    """Answers ``why`` for many objects of one view, remembering states it has worked out."""

    def __init__(self, view: View, git_origin: GitOrigin | None = None) -> None:
        self.view = view
        self.git_origin = git_origin
        self._states: dict[Ref, LiveState] = {}
        self._whys: dict[Ref, Why] = {}

    def state(self, ref: Ref) -> LiveState:
        found = self._states.get(ref)
        if found is None:
            found = self._states[ref] = state_of(self.view, ref)
        return found

    def why(self, ref: Ref) -> Why:
        found = self._whys.get(ref)
        if found is None:
            found = self._whys[ref] = self._walk(ref)
        return found

    def _hop(self, ref: Ref, via: str) -> Hop:
        state = self.state(ref)
        evidence = state.evidence
        if state.state == MISSING:
            origin = self.git_origin(ref) if self.git_origin else None
            evidence = (f"not found in the cluster{f'; defined in Git at {origin}' if origin else ''}",)
        return Hop(ref, state, via, evidence)

    def _walk(self, start: Ref) -> Why:
        chain = [self._hop(start, "")]
        seen = {start}
        current = start
        while not self.state(current).healthy:
            candidates = [
                (ref, via)
                for order, (ref, via) in enumerate(self.needs(current))
                if ref not in seen and not self.state(ref).healthy
            ]
            if not candidates:
                break
            ref, via = min(
                enumerate(candidates), key=lambda c: (SEVERITY.get(self.state(c[1][0]).state, 9), c[0])
            )[1]
            seen.add(ref)
            chain.append(self._hop(ref, via))
            current = ref
        if len(chain) == 1 and self.state(start).healthy:
            return Why(tuple(chain), None)
        return Why(tuple(chain), self._next(chain))

    # -- edges ------------------------------------------------------------------------------------

    def needs(self, ref: Ref) -> list[tuple[Ref, str]]:
        """What the object waits on, the edges its current reason points at first."""
        obj = self.view.get(ref)
        if obj is None:
            return []
        reason = self.state(ref).reason
        kind = ref.kind
        if kind == "Kustomization":
            edges = _kustomization(self.view, ref, obj)
        elif kind == "HelmRelease":
            edges = _release(self.view, ref, obj)
        elif kind == "HelmChart":
            edges = list(_source_ref(obj, ref.namespace, "source"))
        elif kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
            edges = [(pod, "runs") for pod in self.view.pods_of(ref)]
        elif kind == "Pod":
            edges = _pod(self.view, ref, obj)
        elif kind == "ExternalSecret":
            edges = _external_secret(ref, obj)
        elif kind == "HTTPRoute":
            edges = _route(ref, obj)
        elif kind == "PersistentVolumeClaim":
            name = get(obj, "spec", "storageClassName")
            edges = (
                [(Ref("StorageClass", "", str(name)), "storageClass")]
                if isinstance(name, str) and name
                else []
            )
        else:
            edges = []
        first = _FIRST.get(reason)
        if first:
            edges.sort(key=lambda e: e[1] not in first)
        return edges

    # -- what happens next ------------------------------------------------------------------------

    def _next(self, chain: list[Hop]) -> Next | None:
        root = chain[-1]
        fix = f"fixing {root.ref}" + (f" ({root.state.reason})" if root.state.reason else "")
        for hop in chain:
            if hop.ref.kind == "HelmRelease" and hop.state.state == STALLED:
                return Next(
                    f"will not retry: Stalled — run `flux reconcile helmrelease {hop.ref.name} -n "
                    f"{hop.ref.namespace} --reset` after {fix}",
                    None,
                )
        return next_of(self.view, root.ref, root.state, fix)


_FIRST: dict[str, frozenset[str]] = {
    "DependencyNotReady": frozenset({"dependsOn"}),
    "ArtifactFailed": frozenset({"source"}),
    "SourceNotReady": frozenset({"source"}),
    "HelmChartNotReady": frozenset({"source"}),
    "ValuesError": frozenset({"valuesFrom"}),
    "HealthCheckFailed": frozenset({"applies"}),
    "CreateContainerConfigError": frozenset({"secret", "configMap"}),
    "SecretSyncedError": frozenset({"store"}),
}


def _depends_on(obj: Mapping[str, Any], kind: str, namespace: str) -> Iterator[tuple[Ref, str]]:
    for item in get(obj, "spec", "dependsOn") or ():
        if isinstance(item, dict) and item.get("name"):
            yield Ref(kind, str(item.get("namespace") or namespace), str(item["name"])), "dependsOn"


def _source_ref(obj: Mapping[str, Any], namespace: str, via: str, *path: str) -> Iterator[tuple[Ref, str]]:
    ref = get(obj, "spec", *(path or ("sourceRef",)))
    if isinstance(ref, dict) and ref.get("name") and ref.get("kind"):
        yield Ref(str(ref["kind"]), str(ref.get("namespace") or namespace), str(ref["name"])), via


_APPLIED_KINDS = (
    "HelmRelease",
    "Kustomization",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "ExternalSecret",
)


def _kustomization(view: View, ref: Ref, obj: Mapping[str, Any]) -> list[tuple[Ref, str]]:
    edges = list(_depends_on(obj, "Kustomization", ref.namespace))
    edges.extend(_source_ref(obj, ref.namespace, "source"))
    for item in get(obj, "spec", "postBuild", "substituteFrom") or ():
        if isinstance(item, dict) and item.get("name") and item.get("optional") is not True:
            edges.append(
                (
                    Ref(str(item.get("kind") or "ConfigMap"), ref.namespace, str(item["name"])),
                    "substituteFrom",
                )
            )
    applied = [r for r in view.applied_by.get(ref, ()) if r.kind in _APPLIED_KINDS]
    edges.extend((r, "applies") for r in sorted(applied, key=lambda r: _APPLIED_KINDS.index(r.kind)))
    return edges


def _release(view: View, ref: Ref, obj: Mapping[str, Any]) -> list[tuple[Ref, str]]:
    edges = list(_depends_on(obj, "HelmRelease", ref.namespace))
    edges.extend(_source_ref(obj, ref.namespace, "source", "chartRef"))
    chart = get(obj, "status", "helmChart")
    if isinstance(chart, str) and "/" in chart:
        namespace, name = chart.split("/", 1)
        edges.append((Ref("HelmChart", namespace, name), "source"))
    else:
        edges.extend(_source_ref(obj, ref.namespace, "source", "chart", "spec", "sourceRef"))
    for item in get(obj, "spec", "valuesFrom") or ():
        if isinstance(item, dict) and item.get("name") and item.get("optional") is not True:
            edges.append(
                (Ref(str(item.get("kind") or "ConfigMap"), ref.namespace, str(item["name"])), "valuesFrom")
            )
    edges.extend((w, "installs") for w in view.workloads_of(ref))
    return edges


def _pod(view: View, ref: Ref, obj: Mapping[str, Any]) -> list[tuple[Ref, str]]:
    from ..model.kinds import pod_references

    found = obj.get("spec")
    spec: Mapping[str, Any] = found if isinstance(found, dict) else {}
    named = set()
    for _, _, message, _ in container_problems(obj):
        named.update(SECRET_NOT_FOUND.findall(message))
        for key_missing in re.findall(r"couldn't find key \S+ in Secret \S+/(\S+)", message):
            named.add(key_missing)
    edges: list[tuple[Ref, str]] = []
    for needed in pod_references(spec):
        if needed.optional:
            continue
        target = Ref(needed.kind, ref.namespace, needed.name)
        if needed.kind == "Secret":
            producer = view.secret_producers.get((ref.namespace, needed.name))
            missing = view.get(target) is None
            if producer is not None and (missing or needed.name in named):
                edges.append((producer, "secret"))
            elif missing:
                edges.append((target, "secret"))
        elif needed.kind == "PersistentVolumeClaim":
            edges.append((target, "claim"))
        elif view.get(target) is None:
            edges.append((target, "configMap"))
    return edges


def _external_secret(ref: Ref, obj: Mapping[str, Any]) -> list[tuple[Ref, str]]:
    store = get(obj, "spec", "secretStoreRef")
    if not isinstance(store, dict) or not store.get("name"):
        return []
    kind = str(store.get("kind") or "SecretStore")
    namespace = "" if kind == "ClusterSecretStore" else ref.namespace
    return [(Ref(kind, namespace, str(store["name"])), "store")]


def _route(ref: Ref, obj: Mapping[str, Any]) -> list[tuple[Ref, str]]:
    edges = []
    for parent in get(obj, "spec", "parentRefs") or ():
        if isinstance(parent, dict) and parent.get("name") and parent.get("kind", "Gateway") == "Gateway":
            edges.append(
                (
                    Ref("Gateway", str(parent.get("namespace") or ref.namespace), str(parent["name"])),
                    "gateway",
                )
            )
    for rule in get(obj, "spec", "rules") or ():
        for backend in get(rule, "backendRefs") or ():
            if (
                isinstance(backend, dict)
                and backend.get("name")
                and backend.get("kind", "Service") == "Service"
            ):
                target = Ref("Service", str(backend.get("namespace") or ref.namespace), str(backend["name"]))
                if (target, "backend") not in edges:
                    edges.append((target, "backend"))
    return edges


# -- timers ---------------------------------------------------------------------------------------
# Every period and back-off below is a timer of the runtime machines (homeops.runtime): its default, the
# spec field that overrides it and where the value was checked.

_CONTROLLERS = {
    "Kustomization": "kustomize-controller",
    "HelmRelease": "helm-controller",
    "ExternalSecret": "external-secrets",
    "SecretStore": "external-secrets",
    "ClusterSecretStore": "external-secrets",
    "Pod": "kubelet",
}


def next_of(view: View, ref: Ref, state: LiveState, fix: str) -> Next | None:
    """The next automatic attempt at the root cause, and when (None for ``at`` when it is not timed)."""
    obj = view.get(ref)
    name = f"{ref.kind} {ref.namespace + '/' if ref.namespace else ''}{ref.name}"
    if state.state == MISSING:
        return Next(f"will not retry until {name} exists: create it (in Git, where Flux applies it)", None)
    if obj is None:
        return None
    machine = MACHINES.get(ref.kind)
    controller = _CONTROLLERS.get(ref.kind, "source-controller")
    if machine is not None and state.state == BLOCKED and state.reason == "DependencyNotReady":
        every = machine.timer("requeue-dependency").default or 0.0
        return Next(
            f"{name} re-checks its dependencies every {every:g}s", view.now + timedelta(seconds=every)
        )
    if ref.kind == "Pod" and state.state == RETRYING:
        return _pod_restart(view, obj, name, state)
    if machine is not None and ref.kind in FLUX_KINDS:
        if state.state == STALLED:
            return Next(
                f"will not retry: Stalled — {fix}, then `flux reconcile {ref.kind.lower()} {ref.name} -n "
                f"{ref.namespace}`",
                None,
            )
        if state.state == RETRYING and ref.kind == "Kustomization":
            period = machine.timer("retryInterval").seconds(obj)
            if period:
                return Next(f"{controller} retries {name} every {period:g}s", _after(view, obj, period))
        elif state.state == RETRYING and _retry_on_failure(obj):
            every = machine.timer("retryInterval").seconds(obj) or 0.0
            return Next(
                f"{controller} retries {name} every {every:g}s (RetryOnFailure)", _after(view, obj, every)
            )
        elif state.state == RETRYING:
            attempt = state.attempt or 1
            delay = machine.timer("retry-backoff").delay(attempt)
            left = f" (attempt {attempt + 1} of {state.attempts})" if state.attempts else ""
            return Next(f"{controller} retries {name}{left}", _after(view, obj, delay))
    if machine is not None and ref.kind.endswith("SecretStore") and not state.healthy:
        every = machine.timer("refreshInterval").seconds(obj) or 0.0
        return Next(f"{controller} re-validates {name} every {every:g}s", _after(view, obj, every))
    if machine is not None and ref.kind == "ExternalSecret" and not state.healthy:
        cap = machine.timer("retry-backoff").cap or 0.0
        return Next(
            f"{controller} retries {name} with back-off (up to {format_duration(cap)} apart, no limit)", None
        )
    if ref.kind in ("HTTPRoute", "Gateway"):
        return Next(
            f"the gateway controller re-evaluates {name} as soon as {fix.removeprefix('fixing ')} changes",
            None,
        )
    if ref.kind == "PersistentVolumeClaim":
        return Next(
            f"the provisioner retries {name} with back-off; it binds once its StorageClass can provision",
            None,
        )
    if state.state == STALLED:
        return Next(f"will not retry: Stalled — {fix}", None)
    return Next(f"{name} is {state.state.lower()}; it settles once {fix.removeprefix('fixing ')} does", None)


FLUX_KINDS = frozenset({"Kustomization", "HelmRelease", *SOURCE_KINDS})


def _retry_on_failure(obj: Mapping[str, Any]) -> bool:
    return "RetryOnFailure" in (
        get(obj, "spec", "install", "strategy", "name"),
        get(obj, "spec", "upgrade", "strategy", "name"),
    )


def _after(view: View, obj: Mapping[str, Any], every: float) -> datetime:
    """The first tick of ``every`` seconds after the snapshot's moment, counted from the last transition."""
    ready = condition(obj, "Ready")
    since = parse_time(ready.get("lastTransitionTime")) if ready else None
    if since is None or since > view.now or every <= 0:
        return view.now + timedelta(seconds=every)
    elapsed = (view.now - since).total_seconds()
    ticks = int(elapsed // every) + 1
    return since + timedelta(seconds=ticks * every)


def _pod_restart(view: View, pod: Mapping[str, Any], name: str, state: LiveState) -> Next:
    timer = POD.timer("image-pull-backoff" if state.phase == "ImagePullBackOff" else "restart-backoff")
    delay = timer.delay(state.attempt or 1)
    finished = None
    for status in get(pod, "status", "containerStatuses") or ():
        when = parse_time(get(status, "lastState", "terminated", "finishedAt"))
        if when is not None and (finished is None or when > finished):
            finished = when
    at = (finished or view.now) + timedelta(seconds=delay)
    if at < view.now:
        at = view.now
    return Next(f"kubelet restarts {name} after a {delay:g}s back-off (no limit on restarts)", at)


def iso(value: datetime | None) -> str | None:
    return format_time(value) if value is not None else None
