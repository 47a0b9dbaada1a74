"""The Git side of a live explanation: which objects the repository's Flux tree applies to a cluster,
where each is written, the images it asks for, and the commit the cluster should be at (HEAD)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..graph.model import Graph, Node, build_graph
from ..model.base import Resource
from ..records import NamedTuple
from .view import CLUSTER_SCOPED, Ref, View

FLUX_NODE_KINDS = (
    "Kustomization",
    "HelmRelease",
    "GitRepository",
    "OCIRepository",
    "HelmRepository",
    "Bucket",
)


class RepoSide(NamedTuple):
    cluster: str
    graph: Graph
    objects: Mapping[Ref, Resource]
    """Everything the cluster's Flux tree applies, by live identity."""
    head: str | None
    """The commit checked out (``git rev-parse HEAD``), None outside Git."""
    bootstrap: frozenset[Ref] = frozenset()
    """Sources the cluster's entry point syncs that no file of the repository writes (made by
    ``flux bootstrap`` or a FluxInstance): in Git in the sense that the entry point names them."""

    def origin(self, ref: Ref) -> str | None:
        res = self.objects.get(ref)
        return str(res.origin) if res is not None else None

    def nodes(self) -> list[Node]:
        return [n for n in self.graph.nodes if n.cluster == self.cluster]


def open_repo(path: str | Path, view: View | None, cluster: str | None) -> RepoSide | None:
    """The repository at ``path`` joined to one of its clusters (None when it has no Flux tree)."""
    from ..errors import UsageError
    from ..flux.tree import CLUSTER
    from ..workspace import open_workspace

    workspace = open_workspace(path)
    flux = workspace.flux
    if not flux.clusters:
        return None
    if cluster is not None and cluster not in flux.clusters:
        raise UsageError(
            f"no cluster {cluster!r} in {path}", hint=f"clusters: {', '.join(sorted(flux.clusters))}"
        )
    graph = build_graph(flux)
    chosen = cluster or best_cluster(graph, sorted(flux.clusters), view)
    objects: dict[Ref, Resource] = {}
    for res in flux.objects:
        if res.notes.get(CLUSTER) == chosen:
            objects[_ref(res)] = res
    for (name, _ident), producer in flux.producers.items():
        if name == chosen:
            objects.setdefault(_ref(producer.ks.res), producer.ks.res)
    bootstrap = frozenset(
        Ref(str(source.get("kind")), entry.ks.namespace, str(source.get("name")))
        for entry in flux.clusters[chosen].entries
        if entry.synthesized and isinstance(source := entry.ks.obj.get("spec", {}).get("sourceRef"), dict)
    )
    return RepoSide(chosen, graph, objects, _head(workspace.root), bootstrap)


def _ref(res: Resource) -> Ref:
    namespace = "" if res.kind in CLUSTER_SCOPED else res.namespace
    return Ref(res.kind, namespace, res.name)


def best_cluster(graph: Graph, clusters: list[str], view: View | None) -> str:
    """The cluster whose Flux objects the snapshot holds the most of (the first when it cannot tell)."""
    if len(clusters) == 1 or view is None:
        return clusters[0]
    live = {r for r in view.objects if r.kind in FLUX_NODE_KINDS}
    scores = {
        name: sum(1 for n in graph.nodes if n.cluster == name and Ref(n.kind, n.namespace, n.name) in live)
        for name in clusters
    }
    return max(clusters, key=lambda name: (scores[name], -clusters.index(name)))


def _head(root: Path) -> str | None:
    from .. import git
    from ..errors import HomeopsError

    try:
        return git.head(root)
    except HomeopsError:  # no git: the revision is not compared
        return None
