"""The objects a simulation runs: one per graph node, with its edges and its timers read from the repository.

The dependency graph (:func:`homeops.graph.model.build_graph`) gives the edges: ``applies`` (which
Kustomization creates the object), ``dependsOn``, ``source``, ``secret`` and ``claim`` (what its pods
need), ``store`` and ``gateway``. The spec gives the timers: intervals, retry intervals, timeouts,
retries and strategies, with the controllers' defaults where a field is absent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..graph.model import Graph, Node
from ..model.base import Resource, get_path
from ..model.flux import HelmRelease, Kustomization
from ..runtime import defaults as d
from ..runtime.durations import parse_duration

SOURCE_KINDS = frozenset({"GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket"})
SIMULATED = frozenset(
    {
        "Kustomization",
        "HelmRelease",
        "ExternalSecret",
        "ClusterSecretStore",
        "SecretStore",
        "Secret",
        "PersistentVolumeClaim",
        "Database",
        "Certificate",
        "Gateway",
        "HTTPRoute",
        *SOURCE_KINDS,
    }
)


@dataclass(slots=True, eq=False)
class SimObject:
    """One object of the simulated cluster: its edges, its timers, and (set by the engine) its state."""

    node: Node
    res: Resource | None
    """None for objects the repository does not define (a source created by ``flux bootstrap``)."""
    parent: SimObject | None = None
    """The Kustomization that applies it; None when it exists from the start."""
    applies: list[SimObject] = field(default_factory=list)
    depends: list[SimObject] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """dependsOn targets (or a store) not in the repository: the controller waits for them forever."""
    source: SimObject | None = None
    needs: list[SimObject] = field(default_factory=list)
    """What its pods (or, for a database, its bootstrap) need: Secrets' producers and claims."""
    values: list[SimObject] = field(default_factory=list)
    """Producers of the Secrets a HelmRelease reads with ``valuesFrom``."""
    store: SimObject | None = None
    gateways: list[SimObject] = field(default_factory=list)
    health: list[SimObject] = field(default_factory=list)
    """A Kustomization's health checks: everything it applies (``wait``) or what ``healthChecks`` name."""
    # timers and options from the spec
    interval: float | None = None
    retry_interval: float | None = None
    timeout: float = 0.0
    retries: int = 0
    retry_strategy: bool = False
    """``install.strategy.name: RetryOnFailure``."""
    remediate_last: bool = False
    disable_wait: bool = False
    suspended: bool = False
    preinstalled: bool = False
    """A HelmRelease the bootstrap helmfile installs before Flux: Flux only adopts it."""
    waits: bool = False
    fail: bool = False
    """Injected by ``--fail``: it never becomes Ready."""
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.node.kind

    @property
    def label(self) -> str:
        return f"{self.node.kind} {self.node.short}"


def build_world(
    graph: Graph,
    bootstrap_releases: Iterable[tuple[str, str]] = (),
    bootstrap_files: Iterable[str] = (),
    bootstrap_sources: Iterable[Node] = (),
) -> list[SimObject]:
    """Simulated objects for the graph's nodes of the kinds the simulation knows, edges resolved.

    ``bootstrap_releases``: (name, namespace) of Helm releases installed before Flux;
    ``bootstrap_files``: files (or folders) bootstrap applies with kubectl: their objects exist from
    the start; ``bootstrap_sources``: the sources the entry points sync from, which the bootstrap
    creates with them (``flux bootstrap`` applies gotk-sync.yaml itself) even where the repository
    also writes them under a path they sync.
    """
    preinstalled = set(bootstrap_releases)
    pre_applied = tuple(f.rstrip("/") for f in bootstrap_files)
    pre_created = set(bootstrap_sources)
    objects: dict[Node, SimObject] = {}
    for node, res in graph.nodes.items():
        if node.kind in SIMULATED or _is_workload(node, graph):
            objects[node] = SimObject(node, res)
    external: dict[Node, SimObject] = {}

    def source_object(node: Node) -> SimObject:
        found = objects.get(node)
        if found is not None:
            return found
        if node not in external:
            external[node] = SimObject(
                node, None, notes=["not in the repository: assumed created at bootstrap"]
            )
        return external[node]

    for node, obj in objects.items():
        for edge in graph.needs.get(node, ()):
            target = objects.get(edge.target)
            if edge.kind == "applies" and target is not None and target is not obj:
                obj.parent = target
                target.applies.append(obj)
            elif edge.kind == "dependsOn" and target is not None:
                obj.depends.append(target)
            elif edge.kind == "source":
                obj.source = source_object(edge.target)
            elif edge.kind == "store" and target is not None:
                obj.store = target
            elif edge.kind == "gateway" and target is not None:
                obj.gateways.append(target)
            elif edge.kind in ("secret", "claim") and target is not None and target is not obj:
                obj.needs.append(target)
    for edge in graph.missing:
        dependent = objects.get(edge.source)
        if dependent is None:
            continue
        if edge.kind in ("dependsOn", "store"):
            dependent.missing.append(f"{edge.target.kind} {edge.target.short}")
        elif edge.kind == "source":
            dependent.source = source_object(edge.target)
    by_id = {(o.node.cluster, o.node.kind, o.node.namespace, o.node.name): o for o in objects.values()}
    for node, obj in objects.items():
        if obj.res is None:
            continue
        if node.kind == "Kustomization":
            _kustomization(obj, Kustomization(obj.res), by_id)
            if obj.source is None and Kustomization(obj.res).source_ref is not None:
                ref = Kustomization(obj.res).source_ref
                assert ref is not None
                obj.source = source_object(Node(node.cluster, ref.kind, ref.namespace, ref.name))
        elif node.kind == "HelmRelease":
            release = HelmRelease(obj.res)
            _helm_release(obj, release)
            obj.preinstalled = (release.name, release.release_namespace) in preinstalled
        else:
            obj.suspended = get_path(obj.res.obj, "spec", "suspend") is True
        parent = obj.parent
        if parent is not None and (node in pre_created or _under(obj.res.origin.path, pre_applied)):
            parent.applies.remove(obj)
            obj.parent = None
            obj.notes.append(
                "created by the bootstrap with its entry point" if node in pre_created
                else "applied by bootstrap before Flux"
            )  # fmt: skip
    return [*objects.values(), *external.values()]


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root + "/") for root in roots)


def _is_workload(node: Node, graph: Graph) -> bool:
    """A Deployment, StatefulSet… the graph holds because its pods need a Secret or a claim."""
    return any(edge.kind in ("secret", "claim") for edge in graph.needs.get(node, ()))


def _kustomization(
    obj: SimObject, ks: Kustomization, by_id: dict[tuple[str, str, str, str], SimObject]
) -> None:
    obj.interval = parse_duration(ks.interval)
    if obj.interval is None:
        obj.notes.append(f"spec.interval {ks.interval!r} is not a duration: assumed 10m")
        obj.interval = 600.0
    retry = parse_duration(ks.spec.get("retryInterval"))
    obj.retry_interval = retry if retry is not None else obj.interval
    obj.timeout = d.kustomization_timeout(obj.interval, parse_duration(ks.timeout))
    obj.suspended = ks.suspended
    checks = ks.spec.get("healthChecks")
    if ks.wait:
        obj.waits = True
        obj.health = list(obj.applies)
    elif isinstance(checks, list) and checks:
        obj.waits = True
        for check in checks:
            if not isinstance(check, dict):
                continue
            namespace = str(check.get("namespace") or ks.namespace)
            found = by_id.get((obj.node.cluster, str(check.get("kind")), namespace, str(check.get("name"))))
            if found is not None:
                obj.health.append(found)


def _helm_release(obj: SimObject, release: HelmRelease) -> None:
    spec = release.spec
    obj.interval = parse_duration(release.interval) or 600.0
    default_timeout = parse_duration(release.timeout) or d.HELM_TIMEOUT
    obj.timeout = parse_duration(get_path(spec, "install", "timeout")) or default_timeout
    retries = release.retries("install")
    obj.retries = retries if retries is not None else 0
    strategy = get_path(spec, "install", "strategy", "name")
    obj.retry_strategy = strategy == "RetryOnFailure"
    if obj.retry_strategy:
        retry = parse_duration(get_path(spec, "install", "strategy", "retryInterval"))
        obj.retry_interval = retry if retry is not None else d.HELM_RETRY_INTERVAL
    obj.remediate_last = get_path(spec, "install", "remediation", "remediateLastFailure") is True
    obj.disable_wait = get_path(spec, "install", "disableWait") is True
    obj.suspended = release.suspended
    values_from = {ref.name for ref in release.values_from if ref.kind == "Secret" and not ref.optional}
    if values_from:
        named = {o for o in obj.needs if o.node.name in values_from or _produces(o, values_from)}
        obj.values = [o for o in obj.needs if o in named]
        obj.needs = [o for o in obj.needs if o not in named]


def _produces(producer: SimObject, names: set[str]) -> bool:
    if producer.res is None or producer.node.kind != "ExternalSecret":
        return False
    target: Any = get_path(producer.res.obj, "spec", "target", "name")
    return (target or producer.node.name) in names
