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
from ..records import NamedTuple
from ..runtime import defaults as d
from ..runtime.durations import parse_duration
from ..runtime.flux import HELM_RELEASE
from ..runtime.machines import MACHINES
from .consumers import external_secret_keys, secret_keys, uses

SOURCE_KINDS = frozenset({"GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket"})
REFRESHED = frozenset({"ExternalSecret", "ClusterSecretStore", "SecretStore"})
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


class HelmAction(NamedTuple):
    """How helm-controller runs one action of a release (``spec.install`` or ``spec.upgrade``)."""

    timeout: float
    retries: int
    retry_strategy: bool
    """``strategy.name: RetryOnFailure``: retried every ``retry_interval`` without remediation."""
    retry_interval: float
    remediate_last: bool


@dataclass(slots=True)
class Initial:
    """How an object stands when the simulation starts from a running cluster (not from nothing)."""

    state: str
    """Its machine state (Ready, Stale, Stalled, Blocked, …)."""
    reason: str = ""
    message: str = ""
    health: str = "healthy"
    """The machine state's health (:class:`homeops.runtime.machine.State`)."""
    since: float = 0.0
    """Seconds since its last periodic reconcile or refresh, at the start (the phase of its timers)."""
    secret_exists: bool = True
    """For an ExternalSecret or a Secret: the Secret is in the cluster (possibly stale)."""
    keys: frozenset[str] | None = None
    """The keys that Secret holds at the start; None when unknown."""


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
    """Assumptions about this object (printed with the result)."""
    defaulted: list[str] = field(default_factory=list)
    """Timers of its machine that its spec leaves to the controller's default."""
    # what a running cluster adds: the Secrets objects write and read, and what a change does
    secret: str = ""
    """For an ExternalSecret or a Secret: the name of the Secret it writes."""
    keys: frozenset[str] | None = None
    """The keys of that Secret once this revision is synced; None when unknown (``dataFrom``)."""
    needed_keys: dict[str, frozenset[str]] = field(default_factory=dict)
    """Secret name → the keys its pods name (``secretKeyRef``): a Secret without one of them blocks them."""
    reload_all: bool = False
    """Reloader restarts its pods when any Secret they use changes (``reloader.stakater.com/auto``)."""
    reload_names: frozenset[str] = frozenset()
    """Secrets whose change makes Reloader restart its pods (``secret.reloader.stakater.com/reload``)."""
    prune: bool = True
    """A Kustomization's ``spec.prune``: it deletes what it no longer applies."""
    initial: Initial | None = None
    """Its state when the simulation starts from a running cluster; None: absent (bootstrap, added)."""
    change: str = ""
    """What the simulated commit does to it: ``revision`` (a Kustomization re-applies the new
    revision), ``spec`` (its object changed), ``data`` (so does the Secret it writes), ``chart`` or
    ``values`` (a HelmRelease's chart source or valuesFrom changed), ``added``, ``removed``; "" for
    nothing."""

    changed_objects: int = 0
    """A Kustomization: how many objects of its build output the simulated commit changes."""
    upgrade: HelmAction | None = None
    """A HelmRelease's ``spec.upgrade`` settings (None: as for install)."""

    @property
    def kind(self) -> str:
        return self.node.kind

    def helm_action(self, action: str) -> HelmAction:
        """The settings of a HelmRelease's install (the fields above) or upgrade."""
        if action == "upgrade" and self.upgrade is not None:
            return self.upgrade
        interval = self.retry_interval if self.retry_interval is not None else d.HELM_RETRY_INTERVAL
        return HelmAction(self.timeout, self.retries, self.retry_strategy, interval, self.remediate_last)

    @property
    def label(self) -> str:
        return f"{self.node.kind} {self.node.short}"


def build_world(
    graph: Graph, bootstrap_releases: Iterable[tuple[str, str]] = (), bootstrap_files: Iterable[str] = ()
) -> list[SimObject]:
    """Simulated objects for the graph's nodes of the kinds the simulation knows, edges resolved.

    ``bootstrap_releases``: (name, namespace) of Helm releases installed before Flux;
    ``bootstrap_files``: files (or folders) bootstrap applies with kubectl: their objects exist from
    the start.
    """
    preinstalled = set(bootstrap_releases)
    pre_applied = tuple(f.rstrip("/") for f in bootstrap_files)
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
            # a source's interval, or how often an ExternalSecret refreshes and a store is re-validated
            field_name = "refreshInterval" if node.kind in REFRESHED else "interval"
            obj.interval = parse_duration(get_path(obj.res.obj, "spec", field_name))
            _secret_producer(obj)
        parent = obj.parent
        if parent is not None and _under(obj.res.origin.path, pre_applied):
            parent.applies.remove(obj)
            obj.parent = None
            obj.notes.append("applied by bootstrap before Flux")
    for obj in objects.values():
        parent = obj.parent
        if parent is not None and parent.source is obj:
            # gotk-sync.yaml's GitRepository: the Kustomization reading from it cannot apply it first
            parent.applies.remove(obj)
            obj.parent = None
            obj.notes.append("the source of the Kustomization that applies it: created by bootstrap")
        _secret_consumer(obj)
    return [*objects.values(), *external.values()]


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root + "/") for root in roots)


def _is_workload(node: Node, graph: Graph) -> bool:
    """A Deployment, StatefulSet… the graph holds because its pods need a Secret or a claim."""
    return any(edge.kind in ("secret", "claim") for edge in graph.needs.get(node, ()))


def _kustomization(
    obj: SimObject, ks: Kustomization, by_id: dict[tuple[str, str, str, str], SimObject]
) -> None:
    obj.interval = _interval(obj, ks.interval)
    timers = MACHINES["Kustomization"]
    obj.retry_interval = timers.timer("retryInterval").seconds(ks.res.obj) or obj.interval
    timeout = timers.timer("timeout").seconds(ks.res.obj)
    obj.timeout = d.kustomization_timeout(obj.interval, timeout)
    obj.defaulted += [name for name, value in (("retryInterval", ks.spec.get("retryInterval")),
                                                ("timeout", timeout)) if value is None]  # fmt: skip
    obj.suspended = ks.suspended
    obj.prune = ks.spec.get("prune") is True
    checks = ks.spec.get("healthChecks")
    if ks.wait:
        obj.waits = True
        obj.health = [o for o in obj.applies if o.kind not in CURRENT_WHEN_APPLIED]
    elif isinstance(checks, list) and checks:
        obj.waits = True
        for check in checks:
            if not isinstance(check, dict):
                continue
            namespace = str(check.get("namespace") or ks.namespace)
            found = by_id.get((obj.node.cluster, str(check.get("kind")), namespace, str(check.get("name"))))
            if found is not None and found.kind not in CURRENT_WHEN_APPLIED:
                obj.health.append(found)


CURRENT_WHEN_APPLIED = frozenset({"Gateway", "HTTPRoute"})
"""Kinds kstatus (the health check of a Kustomization's ``wait`` and ``healthChecks``) reports Current
as soon as they are applied: it reads only Reconciling and Stalled conditions and
status.observedGeneration, and a Gateway (Accepted, Programmed) or an HTTPRoute (conditions per parent
Gateway) has none of them. The Kustomization does not wait for the controller to accept them."""


def _helm_release(obj: SimObject, release: HelmRelease) -> None:
    spec = release.spec
    obj.interval = _interval(obj, release.interval)
    default_timeout = parse_duration(release.timeout) or d.HELM_TIMEOUT
    timeout = HELM_RELEASE.timer("timeout").seconds(release.res.obj)
    if (
        parse_duration(get_path(spec, "install", "timeout")) is None
        and parse_duration(release.timeout) is None
    ):
        obj.defaulted.append("timeout")
    obj.timeout = timeout or d.HELM_TIMEOUT
    retries = release.retries("install")
    obj.retries = retries if retries is not None else 0
    strategy = get_path(spec, "install", "strategy", "name")
    obj.retry_strategy = strategy == "RetryOnFailure"
    if obj.retry_strategy:
        retry = parse_duration(get_path(spec, "install", "strategy", "retryInterval"))
        obj.retry_interval = retry if retry is not None else d.HELM_RETRY_INTERVAL
        if retry is None:
            obj.defaulted.append("retryInterval")
    obj.remediate_last = get_path(spec, "install", "remediation", "remediateLastFailure") is True
    obj.disable_wait = get_path(spec, "install", "disableWait") is True
    upgrade_retries = release.retries("upgrade")
    upgrade_retries = upgrade_retries if upgrade_retries is not None else 0
    upgrade_strategy = get_path(spec, "upgrade", "strategy", "name") == "RetryOnFailure"
    last: Any = get_path(spec, "upgrade", "remediation", "remediateLastFailure")
    obj.upgrade = HelmAction(
        parse_duration(get_path(spec, "upgrade", "timeout")) or default_timeout,
        upgrade_retries,
        upgrade_strategy,
        parse_duration(get_path(spec, "upgrade", "strategy", "retryInterval")) or d.HELM_RETRY_INTERVAL,
        # helm-controller: an upgrade's last failure is remediated by default when it has retries
        last if isinstance(last, bool) else upgrade_retries > 0,
    )
    obj.suspended = release.suspended
    values_from = {ref.name for ref in release.values_from if ref.kind == "Secret" and not ref.optional}
    if values_from:
        named = {o for o in obj.needs if o.node.name in values_from or _produces(o, values_from)}
        obj.values = [o for o in obj.needs if o in named]
        obj.needs = [o for o in obj.needs if o not in named]


def _interval(obj: SimObject, value: Any) -> float:
    interval = parse_duration(value)
    if interval:
        return interval
    obj.notes.append(f"spec.interval {value!r} is not a duration: assumed 10m")
    return 600.0


def _produces(producer: SimObject, names: set[str]) -> bool:
    if producer.res is None or producer.node.kind != "ExternalSecret":
        return False
    target: Any = get_path(producer.res.obj, "spec", "target", "name")
    return (target or producer.node.name) in names


def _secret_producer(obj: SimObject) -> None:
    """The Secret an ExternalSecret or a Secret object writes, and its keys (what a pod may name)."""
    assert obj.res is not None
    if obj.node.kind == "ExternalSecret":
        target: Any = get_path(obj.res.obj, "spec", "target", "name")
        obj.secret = str(target or obj.node.name)
        obj.keys = external_secret_keys(obj.res.obj)
    elif obj.node.kind == "Secret":
        obj.secret = obj.node.name
        obj.keys = secret_keys(obj.res.obj)


def _secret_consumer(obj: SimObject) -> None:
    """The keys its pods name in each Secret, and whether Reloader restarts them when a Secret changes."""
    if obj.res is None or not obj.needs:
        return
    found = uses(obj.res.obj, {o.secret for o in obj.needs if o.secret})
    obj.needed_keys, obj.reload_all, obj.reload_names = found
