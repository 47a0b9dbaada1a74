"""Rules for seed rule "Dependencies declared" and "layers never block each other"."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from ..graph.model import Graph, Node, closure, cycles, dependency_successors
from ..model.flux import FLUX_HELM_GROUP, HelmRelease
from ..model.kinds import CNPG_GROUP, ESO_GROUP, ExternalSecret
from ..records import Record
from .base import Hit, Severity, rule
from .context import Context


def _resource_hit(
    ctx: Context, graph: Graph, node: Node, path: tuple[str | int, ...], message: str, hint: str | None = None
) -> Hit | None:
    res = graph.nodes.get(node)
    return ctx.hit(res, path, message, hint) if res is not None else None


@rule(
    id="DEP001",
    name="dependency-missing",
    family="dependencies",
    severity=Severity.ERROR,
    seed="Dependencies declared: dependsOn in install.yaml files create the dependency graph",
    summary="dependsOn names a Kustomization or HelmRelease that does not exist in that cluster",
    why="Flux waits for every dependsOn target to be Ready; a target that does not exist is never Ready, "
    "so the dependent (and everything after it) waits forever with 'dependency not found'.",
    bad="dependsOn:\n  - name: external-secret   # the Kustomization is called external-secrets\n",
    good="dependsOn:\n  - name: external-secrets\n    namespace: external-secrets\n",
    fix="Use the exact name and namespace of a Kustomization (or HelmRelease) of the same cluster; "
    "dependsOn defaults to the dependent's own namespace.",
)
def dependency_missing(ctx: Context) -> Iterator[Hit]:
    graph = ctx.graph
    for edge in graph.missing:
        if edge.kind != "dependsOn":
            continue
        index = [r.name for r in _depends_on(graph, edge.source)]
        position = index.index(edge.target.name) if edge.target.name in index else 0
        hit = _resource_hit(
            ctx,
            graph,
            edge.source,
            ("spec", "dependsOn", position, "name"),
            f"{edge.source.kind} {edge.source.short} depends on {edge.target.kind} {edge.target.short}, "
            f"which does not exist in cluster {edge.source.cluster!r}",
            _suggest(graph, edge.target),
        )
        if hit is not None:
            yield hit


def _depends_on(graph: Graph, node: Node) -> list[Node]:
    res = graph.nodes.get(node)
    if res is None:
        return []
    spec = res.obj.get("spec")
    items = spec.get("dependsOn") if isinstance(spec, dict) else None
    out = []
    for item in items if isinstance(items, list) else []:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str):
            out.append(Node(node.cluster, node.kind, "", name))
    return out


def _suggest(graph: Graph, missing: Node) -> str | None:
    same_name = sorted(
        n
        for n in graph.nodes
        if n.kind == missing.kind and n.name == missing.name and n.cluster == missing.cluster
    )
    if same_name:
        return (
            f"a {missing.kind} named {missing.name!r} exists in namespace {same_name[0].namespace!r}: "
            "set namespace"
        )
    close = sorted(
        n
        for n in graph.nodes
        if n.kind == missing.kind and n.cluster == missing.cluster and _close(n.name, missing.name)
    )
    return f"did you mean {close[0].short}?" if close else None


def _close(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 2:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] <= 2


@rule(
    id="DEP002",
    name="dependency-cycle",
    family="dependencies",
    severity=Severity.ERROR,
    seed="If a dependency fails, all downstream apps block indefinitely",
    summary="dependsOn forms a cycle",
    why="Each member of a cycle waits for another to be Ready first, so none ever reconciles and nothing "
    "downstream of them does either.",
    bad="# a/ks.yaml: dependsOn: [{name: b}]\n# b/ks.yaml: dependsOn: [{name: a}]\n",
    good="# a/ks.yaml: dependsOn: [{name: b}]\n# b/ks.yaml: (no dependsOn on a)\n",
    fix="Remove the dependsOn that points back; split a shared prerequisite into its own Kustomization.",
)
def dependency_cycle(ctx: Context) -> Iterator[Hit]:
    graph = ctx.graph
    successors = dependency_successors(graph)
    for members in cycles(graph):
        first = members[0]
        chain = " → ".join(n.short for n in _cycle_through(first, set(members), successors))
        hit = _resource_hit(
            ctx, graph, first, ("spec", "dependsOn"), f"dependsOn cycle in cluster {first.cluster!r}: {chain}"
        )
        if hit is not None:
            yield hit


def _cycle_through(start: Node, members: set[Node], successors: dict[Node, list[Node]]) -> list[Node]:
    """The shortest dependsOn path from ``start`` back to itself inside one cycle, both ends included.

    The members of a strongly connected component, sorted, are not a path: the message must follow the
    edges as they are written.
    """
    came_from: dict[Node, Node] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in successors.get(node, ()):
            if target not in members:
                continue
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target not in came_from:
                came_from[target] = node
                queue.append(target)
    return [start, start]  # unreachable for a cycle; a self-loop is found above


# -- providers ----------------------------------------------------------------------------------


class Providers(Record):
    """Per cluster: which Kustomizations provide each capability, and what bootstrap already installs."""

    __slots__ = ("bootstrapped", "by_cluster")

    by_cluster: dict[str, dict[str, set[Node]]]
    bootstrapped: set[str]
    """Capabilities installed before Flux runs (bootstrap helmfile): nothing needs to wait for them."""

    def __init__(self) -> None:
        self.by_cluster = {}
        self.bootstrapped = set()


_PROVIDER_KINDS = (
    (ESO_GROUP, "ClusterSecretStore"),
    (ESO_GROUP, "SecretStore"),
    (FLUX_HELM_GROUP, "HelmRelease"),
    (CNPG_GROUP, "Cluster"),
)


def _providers(ctx: Context) -> Providers:
    out = Providers()
    for (cluster, _ident), producer in ctx.flux.producers.items():
        table = out.by_cluster.setdefault(cluster, {})
        ks = Node(cluster, "Kustomization", producer.ks.namespace, producer.ks.name)
        for res in ctx.of_kinds(producer.objects, *_PROVIDER_KINDS):
            capability = None
            if res.group == ESO_GROUP and res.kind in ("ClusterSecretStore", "SecretStore"):
                capability = f"store:{res.kind}:{res.name}"
                if ctx.bootstrap.applies(res.origin.path):
                    out.bootstrapped.add(capability)
            elif res.group == FLUX_HELM_GROUP and res.kind == "HelmRelease":
                name = _chart_name(ctx, cluster, HelmRelease(res))
                if name in ("cloudnative-pg", "cnpg"):
                    capability = "operator:cnpg"
                    if ctx.bootstrap.installs(name):
                        out.bootstrapped.add(capability)
            elif res.group == CNPG_GROUP and res.kind == "Cluster":
                capability = f"database:{res.namespace}/{res.name}"
            if capability is not None:
                table.setdefault(capability, set()).add(ks)
    return out


def _chart_name(ctx: Context, cluster: str, release: HelmRelease) -> str | None:
    if release.chart is not None:
        return release.chart.chart
    ref = release.chart_ref
    source = ctx.index(cluster).sources.get(ref.id) if ref else None
    spec = source.obj.get("spec") if source is not None else None
    url = spec.get("url") if isinstance(spec, dict) else None
    return str(url).rstrip("/").rsplit("/", 1)[-1] if url else None


@rule(
    id="DEP003",
    name="provider-not-awaited",
    family="dependencies",
    severity=Severity.WARNING,
    seed="Don't skip dependencies: an app using ExternalSecrets or a CloudNativePG database dependsOn them",
    summary="An app uses an ExternalSecret store or a CloudNativePG database without a dependsOn on it",
    why="Without dependsOn Flux applies the app as soon as its parent is applied: its ExternalSecret fails "
    "until the store exists and its pods crash-loop until the database is up — a race on every fresh "
    "install or disaster recovery.",
    bad="# immich/ks.yaml (app uses an ExternalSecret and a CNPG database)\nspec:\n"
    "  path: ./kubernetes/main/apps/media/immich/app\n",
    good="spec:\n  dependsOn:\n    - name: onepassword-store\n      namespace: external-secrets\n"
    "    - name: cloudnative-pg\n      namespace: database\n",
    fix="Add the Kustomization that provides it to spec.dependsOn (directly or through a dependency or a "
    "parent that already waits for it).",
)
def provider_not_awaited(ctx: Context) -> Iterator[Hit]:
    graph = ctx.graph
    providers: Providers | None = None  # worked out when some Kustomization needs one (most need none)
    for (cluster, _ident), producer in sorted(ctx.flux.producers.items()):
        node = Node(cluster, "Kustomization", producer.ks.namespace, producer.ks.name)
        needs: dict[str, str] = {}
        for res in ctx.of_kinds(producer.objects, (ESO_GROUP, "ExternalSecret"), (CNPG_GROUP, "Cluster")):
            if res.group == ESO_GROUP and res.kind == "ExternalSecret":
                store = ExternalSecret(res).store_ref
                if store:
                    needs[f"store:{store[0]}:{store[1]}"] = (
                        f"{store[0]} {store[1]!r} (for ExternalSecret {res.name!r})"
                    )
            elif res.group == CNPG_GROUP and res.kind == "Cluster":
                needs["operator:cnpg"] = f"the CloudNativePG operator (for database {res.name!r})"
        if not needs:
            continue
        if providers is None:
            providers = _providers(ctx)
        table = providers.by_cluster.get(cluster, {})
        awaited = closure(graph, node, ("dependsOn", "applies"))
        awaited |= {n for a in list(awaited) for n in closure(graph, a, ("dependsOn", "applies"))}
        below = _descendants(graph, node)
        for capability, what in sorted(needs.items()):
            provided_by = table.get(capability, set())
            if capability in providers.bootstrapped or not provided_by or node in provided_by:
                continue
            if provided_by & below:
                continue  # it applies the provider itself: a dependsOn on its own child would never start
            names = ", ".join(sorted(p.short for p in provided_by))
            reached = provided_by & awaited
            if reached:
                # Waited for through a dependsOn (or a parent): only as ready as the provider waits.
                if any(_waits(ctx, p) or p in _parents(graph, node) for p in reached):
                    continue
                shown = ", ".join(sorted(p.short for p in reached))
                yield ctx.hit(
                    producer.ks.res,
                    ("spec",),
                    f"Kustomization {node.short} uses {what} and waits for {shown}, which provides it but is "
                    "Ready as soon as it is applied (wait: false, no healthChecks): it may not be up yet",
                    f"set wait: true (or a healthCheck on what it provides) in {shown}",
                )
                continue
            hint = f"add to spec.dependsOn: {names}"
            if not any(_waits(ctx, p) for p in provided_by):
                hint += (
                    f"; {names} has wait: false and no healthChecks, so also set wait: true there (or a "
                    "healthCheck on the store): a dependsOn only waits for what its target waits for"
                )
            yield ctx.hit(
                producer.ks.res,
                ("spec",),
                f"Kustomization {node.short} uses {what} but does not dependsOn {names}, which provides it",
                hint,
            )


def _parents(graph: Graph, node: Node) -> set[Node]:
    return closure(graph, node, ("applies",))


def _waits(ctx: Context, node: Node) -> bool:
    """Whether a Kustomization's Ready means its objects are ready (wait, or health checks)."""
    producer = ctx.flux.producers.get((node.cluster, node.id))
    if producer is None:
        return True  # not known here: assume it does
    spec = producer.ks.spec
    return producer.ks.wait or bool(spec.get("healthChecks")) or bool(spec.get("healthCheckExprs"))


def _descendants(graph: Graph, node: Node) -> set[Node]:
    """The Kustomizations ``node`` applies, directly or through its children."""
    out: set[Node] = set()
    todo = [node]
    while todo:
        current = todo.pop()
        for edge in graph.needed_by.get(current, ()):
            if edge.kind == "applies" and edge.source.kind == "Kustomization" and edge.source not in out:
                out.add(edge.source)
                todo.append(edge.source)
    return out


# -- layers --------------------------------------------------------------------------------------

_INFRA_LAYERS = ("infrastructure", "infra", "platform", "platform-services", "core", "system", "clusters")
_APP_LAYERS = ("apps", "tenants", "applications")


def layer(path: str | None) -> str | None:
    """``infra`` or ``apps`` for layered repositories (by top-level folder), else None."""
    if not path:
        return None
    top = path.split("/", 1)[0]
    if top in _INFRA_LAYERS:
        return "infra"
    if top in _APP_LAYERS:
        return "apps"
    return None


@rule(
    id="DEP004",
    name="infrastructure-depends-on-app",
    family="dependencies",
    severity=Severity.ERROR,
    seed="Layer boundaries are clear enough that missing app secrets never block infrastructure",
    summary="An infrastructure Kustomization depends on an app Kustomization",
    why="Infrastructure must converge on its own: if it waits for an app, a broken app (a missing "
    "1Password entry, a bad image) blocks certificates, networking and every other app.",
    bad="# infrastructure/configs.yaml\ndependsOn:\n  - name: apps\n",
    good="# apps.yaml\ndependsOn:\n  - name: infra-configs\n",
    fix="Reverse the dependency: apps dependsOn infrastructure, never the other way round.",
)
def infra_depends_on_app(ctx: Context) -> Iterator[Hit]:
    graph = ctx.graph
    producers = ctx.flux.producers
    for (cluster, ident), producer in sorted(producers.items()):
        if layer(producer.path) != "infra":
            continue
        node = Node(cluster, "Kustomization", ident.namespace, ident.name)
        for dep in sorted(closure(graph, node, ("dependsOn",))):
            target = producers.get((cluster, dep.id))
            if target is not None and layer(target.path) == "apps":
                yield ctx.hit(
                    producer.ks.res,
                    ("spec", "dependsOn"),
                    f"infrastructure Kustomization {node.short} ({producer.path}) depends on app "
                    f"Kustomization {dep.short} ({target.path})",
                    "make the app depend on the infrastructure instead",
                )
                break
