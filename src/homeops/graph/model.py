"""The dependency graph of a Flux tree: what depends on what, per cluster.

Nodes are Flux Kustomizations, HelmReleases, sources, and the objects that connect apps to each other
(ExternalSecrets, secret stores, Secrets, Gateways, claims, databases). An edge points from the
dependent to what it needs, with the reason (``dependsOn``, ``applies``, ``source``, ``secret``,
``store``, ``gateway``, ``claim``). Edges whose target does not exist are kept in ``missing``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ..flux.tree import FluxTree
from ..model.base import NamedResource, ObjectMemo, Resource
from ..model.flux import FLUX_HELM_GROUP, FLUX_SOURCE_GROUP, HelmRelease, Kustomization
from ..model.kinds import (
    CERT_MANAGER_GROUP,
    CNPG_GROUP,
    ESO_GROUP,
    GATEWAY_GROUP,
    WORKLOAD_KINDS,
    ExternalSecret,
    HTTPRoute,
    PostgresCluster,
    identity_namespace,
    pod_references,
    pod_spec,
)
from ..model.producers import memo_products
from ..model.values import app_template_route_parents, release_value_refs
from ..records import NamedTuple, Record

EDGE_KINDS = ("dependsOn", "applies", "source", "secret", "store", "gateway", "claim")


class Node(NamedTuple):
    cluster: str
    kind: str
    namespace: str
    name: str

    @property
    def id(self) -> NamedResource:
        return NamedResource(self.kind, self.namespace, self.name)

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"

    @property
    def short(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


class Edge(NamedTuple):
    source: Node
    """The dependent."""
    target: Node
    """What it needs."""
    kind: str
    detail: str = ""


class Graph(Record):
    __slots__ = ("edges", "missing", "needed_by", "needs", "nodes")

    nodes: dict[Node, Resource | None]
    edges: list[Edge]
    missing: list[Edge]
    """Edges whose target is not in the graph (dependsOn a name that does not exist)."""
    needs: dict[Node, list[Edge]]
    needed_by: dict[Node, list[Edge]]

    def __init__(
        self,
        nodes: dict[Node, Resource | None] | None = None,
        edges: list[Edge] | None = None,
        missing: list[Edge] | None = None,
        needs: dict[Node, list[Edge]] | None = None,
        needed_by: dict[Node, list[Edge]] | None = None,
    ) -> None:
        self.nodes = {} if nodes is None else nodes
        self.edges = [] if edges is None else edges
        self.missing = [] if missing is None else missing
        self.needs = defaultdict(list) if needs is None else needs
        self.needed_by = defaultdict(list) if needed_by is None else needed_by

    def add(self, node: Node, res: Resource | None) -> None:
        if node not in self.nodes or self.nodes[node] is None:
            self.nodes[node] = res

    def link(self, source: Node, target: Node, kind: str, detail: str = "") -> None:
        if source == target and kind == "applies":
            return  # an entry point that applies itself (flux-system's gotk-sync.yaml)
        edge = Edge(source, target, kind, detail)
        if target not in self.nodes:
            self.missing.append(edge)
            return
        if edge in self.needs[source]:
            return
        self.edges.append(edge)
        self.needs[source].append(edge)
        self.needed_by[target].append(edge)

    def subgraph(self, cluster: str) -> Graph:
        """Only the nodes and edges of one cluster."""
        sub = Graph()
        for node, res in self.nodes.items():
            if node.cluster == cluster:
                sub.add(node, res)
        for edge in self.edges:
            if edge.source.cluster == cluster:
                sub.link(edge.source, edge.target, edge.kind, edge.detail)
        return sub

    def find(self, text: str) -> list[Node]:
        """Nodes matching ``name``, ``namespace/name``, ``kind/name`` or ``kind/namespace/name``."""
        parts = text.split("/")
        out = []
        for node in self.nodes:
            if (
                (len(parts) == 1 and node.name == parts[0])
                or (len(parts) == 2 and (node.namespace, node.name) == (parts[0], parts[1]))
                or (len(parts) == 2 and (node.kind.lower(), node.name) == (parts[0].lower(), parts[1]))
                or (
                    len(parts) == 3
                    and (node.kind.lower(), node.namespace, node.name)
                    == (parts[0].lower(), parts[1], parts[2])
                )
            ):
                out.append(node)
        order = {"Kustomization": 0, "HelmRelease": 1}
        return sorted(out, key=lambda n: (order.get(n.kind, 2), n))


def build_graph(flux: FluxTree) -> Graph:
    """The whole dependency graph of every cluster (what objects create and reference, through the
    tree's :attr:`~homeops.flux.tree.FluxTree.memo`, shared with the expansion and the rules)."""
    memo = flux.memo
    graph = Graph()
    by_cluster: dict[str, list[Resource]] = defaultdict(list)
    for res in flux.objects:
        by_cluster[str(res.notes.get("cluster"))].append(res)
    for (cluster, ident), producer in sorted(flux.producers.items()):
        graph.add(Node(cluster, "Kustomization", ident.namespace, ident.name), producer.ks.res)
    with_nodes = {cluster: _with_nodes(cluster, objects) for cluster, objects in by_cluster.items()}
    for cluster in by_cluster:
        _add_nodes(graph, cluster, with_nodes[cluster])
    for (cluster, ident), producer in sorted(flux.producers.items()):
        node = Node(cluster, "Kustomization", ident.namespace, ident.name)
        if producer.parent is not None:
            graph.link(
                node,
                Node(cluster, "Kustomization", producer.parent.namespace, producer.parent.name),
                "applies",
            )
        for ref in producer.ks.depends_on:
            graph.link(node, Node(cluster, "Kustomization", ref.namespace, ref.name), "dependsOn")
        source = producer.ks.source_ref
        if source is not None:
            target = Node(cluster, source.kind, source.namespace, source.name)
            if target in graph.nodes:
                graph.link(node, target, "source")
    for cluster in by_cluster:
        _add_edges(graph, cluster, with_nodes[cluster], memo)
    return graph


_NODE_KINDS = {
    (FLUX_HELM_GROUP, "HelmRelease"),
    (FLUX_SOURCE_GROUP, "OCIRepository"),
    (FLUX_SOURCE_GROUP, "HelmRepository"),
    (FLUX_SOURCE_GROUP, "GitRepository"),
    (FLUX_SOURCE_GROUP, "HelmChart"),
    (FLUX_SOURCE_GROUP, "Bucket"),
    (ESO_GROUP, "ExternalSecret"),
    (ESO_GROUP, "ClusterSecretStore"),
    (ESO_GROUP, "SecretStore"),
    (GATEWAY_GROUP, "Gateway"),
    (GATEWAY_GROUP, "HTTPRoute"),
    (CNPG_GROUP, "Cluster"),
    (CERT_MANAGER_GROUP, "Certificate"),
    ("", "PersistentVolumeClaim"),
    ("", "Secret"),
}


def _node(cluster: str, res: Resource, group: str, kind: str) -> Node:
    node_kind = "Database" if group == CNPG_GROUP and kind == "Cluster" else kind
    return Node(cluster, node_kind, identity_namespace(kind, res.namespace), res.name)


def _add_nodes(graph: Graph, cluster: str, objects: list[tuple[Resource, str, str, Node]]) -> None:
    for res, group, kind, node in objects:
        if (group, kind) in _NODE_KINDS:
            graph.add(node, res)


def _with_nodes(cluster: str, objects: list[Resource]) -> list[tuple[Resource, str, str, Node]]:
    """Each object with its API group, kind and node, worked out once (every pass below asks)."""
    out = []
    for res in objects:
        group, kind = res.group, res.kind
        out.append((res, group, kind, _node(cluster, res, group, kind)))
    return out


def _add_edges(
    graph: Graph,
    cluster: str,
    objects: list[tuple[Resource, str, str, Node]],
    memo: ObjectMemo,
) -> None:
    # What creates each Secret (the producers table); an operator's object wins over the CNPG
    # Cluster's, which wins over a Secret of the same name (an ExternalSecret of an initdb secret).
    secret_producers: dict[tuple[str, str], Node] = {}
    rank: dict[tuple[str, str], int] = {}
    claims: dict[tuple[str, str], Node] = {}
    gateways: dict[tuple[str, str], Node] = {}
    for res, group, kind, node in objects:
        for made in memo_products(memo, res, (group, kind)):
            if made.kind != "Secret" or made.prefix:
                continue
            order = 2 if made.how == "the object itself" else 1 if group == CNPG_GROUP else 0
            place = (made.namespace, made.name)
            if order < rank.get(place, 3):
                rank[place] = order
                secret_producers[place] = node
                if node not in graph.nodes:
                    graph.add(node, res)
        if group == "" and kind == "PersistentVolumeClaim":
            claims[(res.namespace or "default", res.name)] = node
        elif group == GATEWAY_GROUP and kind == "Gateway":
            gateways[(res.namespace or "default", res.name)] = node
    for res, group, kind, node in objects:
        producer = res.notes.get("producer")
        if node in graph.nodes and isinstance(producer, NamedResource):
            graph.link(node, Node(cluster, "Kustomization", producer.namespace, producer.name), "applies")
        if group == FLUX_HELM_GROUP and kind == "HelmRelease":
            _release_edges(graph, cluster, node, HelmRelease(res), secret_producers, claims, gateways, memo)
        elif group == ESO_GROUP and kind == "ExternalSecret":
            store = ExternalSecret(res).store_ref
            if store is not None:
                store_kind, name = store
                namespace = "" if store_kind == "ClusterSecretStore" else res.namespace
                graph.link(node, Node(cluster, store_kind, namespace, name), "store")
        elif group == CNPG_GROUP and kind == "Cluster":
            # the database waits for the credentials it is given (superuser, initdb owner)
            for name in PostgresCluster(res).consumed_secrets:
                target = secret_producers.get((res.namespace or "default", name))
                if target is not None and target != node:
                    graph.link(node, target, "secret", name)
        elif group == GATEWAY_GROUP and kind == "HTTPRoute":
            for parent in HTTPRoute(res).parent_refs:
                target = gateways.get((parent.namespace or "default", parent.name))
                if target is not None:
                    graph.link(node, target, "gateway")
        elif kind in WORKLOAD_KINDS:  # pod_spec's own first test, without a call for every other object
            pod = pod_spec(res)
            if pod is not None:
                for ref in pod_references(pod):
                    ref_kind, name = ref.kind, ref.name
                    if ref_kind == "ConfigMap":
                        continue
                    table = claims if ref_kind == "PersistentVolumeClaim" else secret_producers
                    target = table.get((res.namespace or "default", name))
                    if target is not None:
                        if node not in graph.nodes:
                            graph.add(node, res)
                            if isinstance(producer, NamedResource):
                                applier = Node(cluster, "Kustomization", producer.namespace, producer.name)
                                graph.link(node, applier, "applies")
                        via = "claim" if ref_kind == "PersistentVolumeClaim" else "secret"
                        graph.link(node, target, via, name)


def _release_edges(
    graph: Graph,
    cluster: str,
    node: Node,
    release: HelmRelease,
    secrets: dict[tuple[str, str], Node],
    claims: dict[tuple[str, str], Node],
    gateways: dict[tuple[str, str], Node],
    memo: ObjectMemo,
) -> None:
    for ref in release.depends_on:
        graph.link(node, Node(cluster, "HelmRelease", ref.namespace, ref.name), "dependsOn")
    chart = release.chart
    for ref in filter(None, (release.chart_ref, chart.source_ref if chart else None)):
        graph.link(node, Node(cluster, ref.kind, ref.namespace, ref.name), "source")
    namespace = release.release_namespace or "default"
    for value_ref in release.values_from:
        if value_ref.kind != "Secret":
            continue
        target = secrets.get((release.namespace or "default", value_ref.name))
        if target is not None:
            graph.link(node, target, "secret", value_ref.name)
    for needed, name in memo(release_value_refs, release.res):
        if not name:
            continue
        if needed.kind == "Secret" and (namespace, name) in secrets:
            graph.link(node, secrets[(namespace, name)], "secret", name)
        elif needed.kind == "PersistentVolumeClaim" and (namespace, name) in claims:
            graph.link(node, claims[(namespace, name)], "claim", name)
    for parent in app_template_route_parents(release.values):
        target = gateways.get((parent.namespace or namespace, parent.name))
        if target is not None:
            graph.link(node, target, "gateway")


# -- analysis -----------------------------------------------------------------------------------


def strongly_connected(nodes: Iterable[Node], successors: dict[Node, list[Node]]) -> list[list[Node]]:
    """Tarjan's algorithm, iterative; components of more than one node (or a self-loop)."""
    index: dict[Node, int] = {}
    low: dict[Node, int] = {}
    on_stack: set[Node] = set()
    stack: list[Node] = []
    out: list[list[Node]] = []
    counter = 0
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(successors.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors.get(child, ()))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in successors.get(node, ()):
                    out.append(sorted(component))
    return out


def dependency_successors(graph: Graph, kinds: tuple[str, ...] = ("dependsOn",)) -> dict[Node, list[Node]]:
    return {node: [e.target for e in edges if e.kind in kinds] for node, edges in graph.needs.items()}


def cycles(graph: Graph) -> list[list[Node]]:
    """dependsOn cycles (Flux waits forever on each member)."""
    return strongly_connected(graph.nodes, dependency_successors(graph))


def closure(graph: Graph, node: Node, kinds: tuple[str, ...]) -> set[Node]:
    """Everything ``node`` needs, transitively, following edges of ``kinds``."""
    seen: set[Node] = set()
    todo = [node]
    while todo:
        current = todo.pop()
        for edge in graph.needs.get(current, ()):
            if edge.kind in kinds and edge.target not in seen:
                seen.add(edge.target)
                todo.append(edge.target)
    return seen


class Rollout(NamedTuple):
    waves: tuple[tuple[Node, ...], ...]
    """Kustomizations and HelmReleases grouped by the earliest wave they can start in."""
    blocked: tuple[Node, ...]
    """Nodes that never start: members of a dependsOn cycle, or waiting on one."""


def rollout(graph: Graph, cluster: str | None = None) -> Rollout:
    """Rollout order: a node starts after everything it dependsOn and the Kustomization applying it."""
    kinds = ("Kustomization", "HelmRelease")
    members = [n for n in graph.nodes if n.kind in kinds and (cluster is None or n.cluster == cluster)]
    deps = {
        n: {
            e.target
            for e in graph.needs.get(n, ())
            if e.kind in ("dependsOn", "applies") and e.target.kind in kinds
        }
        for n in members
    }
    placed: set[Node] = set()
    remaining = set(members)
    out: list[tuple[Node, ...]] = []
    while remaining:
        ready = tuple(sorted(n for n in remaining if deps[n] <= placed))
        if not ready:
            break
        out.append(ready)
        placed.update(ready)
        remaining.difference_update(ready)
    return Rollout(tuple(out), tuple(sorted(remaining)))


class TreeNode(NamedTuple):
    node: Node
    via: str
    """The edge kind that leads here from the parent ("" at the root)."""
    children: tuple[TreeNode, ...]
    repeated: bool = False
    """Already shown elsewhere in the tree; its subtree is not repeated."""


def impact(graph: Graph, node: Node) -> TreeNode:
    """Everything that blocks if ``node`` fails: its dependents, transitively, as a tree."""
    return _tree(node, "", lambda n: [(e.source, e.kind) for e in graph.needed_by.get(n, ())], set())


def why(graph: Graph, node: Node) -> TreeNode:
    """What ``node`` waits for: its dependencies, transitively, as a tree."""
    return _tree(node, "", lambda n: [(e.target, e.kind) for e in graph.needs.get(n, ())], set())


def _tree(node: Node, via: str, step: object, seen: set[Node]) -> TreeNode:
    assert callable(step)
    if node in seen:
        return TreeNode(node, via, (), repeated=True)
    seen.add(node)
    ordered = sorted(step(node), key=lambda x: (x[1], x[0]))
    children = tuple(_tree(child, kind, step, seen) for child, kind in ordered)
    return TreeNode(node, via, children)


def kustomization_node(cluster: str, ks: Kustomization) -> Node:
    return Node(cluster, "Kustomization", ks.namespace, ks.name)
