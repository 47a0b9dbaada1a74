"""The Flux tree of a repository, as the controllers would see it: the types, and reading it.

:func:`load_flux_tree` reads every document, finds each cluster's entry points
(:mod:`homeops.flux.entries`), resolves the sources their Kustomizations build from
(:mod:`homeops.flux.sources`, :mod:`homeops.flux.artifacts`) and expands every cluster
(:mod:`homeops.flux.expand`). Every applied object ends up in :attr:`FluxTree.objects` with notes
naming its producer and cluster. Nothing here raises for a broken repository: build failures, missing
paths and unresolved variables are recorded on the :class:`Producer` so that every problem is reported
at the end.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterator

from ..errors import HomeopsError
from ..load.tree import SourceTree
from ..model.base import NamedResource, ObjectMemo, ObjectRef, Origin, Resource, deep_copy
from ..model.flux import Kustomization
from ..records import NamedTuple, Record
from .bootstrap import Bootstrap, find_bootstrap
from .entries import Entry, cluster_name, find_entries, find_roots, is_flux_ks, with_default_ns
from .expand import CLUSTER, PRODUCER, SUBSTITUTION, Expander, SecretValues, expand_clusters, expand_one
from .sources import ClusterSources, source_like
from .substitute import Outcome, Variables


class LoadProblem(NamedTuple):
    """A file that could not be read or parsed."""

    path: str
    line: int
    reason: str


class Producer(Record):
    """One Flux Kustomization as a cluster applies it, and what it produces."""

    __slots__ = (
        "cluster",
        "error",
        "external",
        "fallback",
        "files",
        "ks",
        "missing_path",
        "missing_sources",
        "objects",
        "parent",
        "path",
        "self_sources",
        "source",
        "substitution",
        "variables",
    )

    ks: Kustomization
    """The Kustomization as applied: parent patches and substitution already done."""
    cluster: str
    parent: NamedResource | None
    """The Kustomization that applies this one; None for an entry point."""
    path: str | None
    """Normalised ``spec.path`` inside its source (None when it is not built)."""
    external: bool
    """The source is not this repository (another Git repo, an OCI artifact): not built."""
    missing_path: bool
    """``spec.path`` names nothing in its source (or climbs out of it): not built."""
    objects: list[Resource]
    files: frozenset[str]
    """Every repository file the build read."""
    error: HomeopsError | None
    fallback: str | None
    variables: Variables
    substitution: Outcome
    missing_sources: list[tuple[str, str]]
    """``substituteFrom`` entries (kind, name) that nothing in the cluster provides."""
    self_sources: list[tuple[str, str]]
    """``substituteFrom`` entries (kind, name) the Kustomization builds itself: they exist only after
    its first apply (a fresh cluster fails its first reconcile)."""
    source: str | None
    """The source it was built from, for people (``GitRepository flux-system/flux-system …``)."""

    def __init__(
        self,
        ks: Kustomization,
        cluster: str,
        parent: NamedResource | None,
        path: str | None = None,
        external: bool = False,
        missing_path: bool = False,
        objects: list[Resource] | None = None,
        files: frozenset[str] = frozenset(),
        error: HomeopsError | None = None,
        fallback: str | None = None,
        variables: Variables | None = None,
        substitution: Outcome | None = None,
        missing_sources: list[tuple[str, str]] | None = None,
        self_sources: list[tuple[str, str]] | None = None,
        source: str | None = None,
    ) -> None:
        self.ks = ks
        self.cluster = cluster
        self.parent = parent
        self.path = path
        self.external = external
        self.missing_path = missing_path
        self.objects = [] if objects is None else objects
        self.files = files
        self.error = error
        self.fallback = fallback
        self.variables = Variables() if variables is None else variables
        self.substitution = Outcome() if substitution is None else substitution
        self.missing_sources = [] if missing_sources is None else missing_sources
        self.self_sources = [] if self_sources is None else self_sources
        self.source = source

    @property
    def id(self) -> NamedResource:
        return self.ks.id


class Cluster(NamedTuple):
    name: str
    roots: tuple[NamedResource, ...]
    root_files: tuple[str, ...]
    entries: tuple[Entry, ...] = ()
    """How the cluster is entered (see :mod:`homeops.flux.entries`)."""


class FluxTree(Record):
    """Everything homeops knows about one repository's Flux configuration."""

    __slots__ = (
        "bootstrap",
        "clusters",
        "documents",
        "entry_notes",
        "guessed",
        "memo",
        "objects",
        "problems",
        "producers",
        "sources",
        "tree",
        "unapplied_kustomizations",
    )

    tree: SourceTree
    clusters: dict[str, Cluster]
    producers: dict[tuple[str, NamedResource], Producer]
    objects: list[Resource]
    """Every object some Kustomization applies, in every cluster."""
    problems: list[LoadProblem]
    documents: list[Resource]
    """Every Kubernetes-shaped document in the repository, applied or not, as written."""
    unapplied_kustomizations: list[Resource]
    """Flux Kustomizations in the repository that no cluster applies and that are not entry points."""
    bootstrap: Bootstrap
    """What exists before Flux runs (bootstrap helmfile and ``bootstrap/`` folders)."""
    guessed: bool
    """No entry point was found: the clusters' roots are guessed (see :mod:`homeops.flux.entries`)."""
    entry_notes: list[str]
    """Sync definitions found but not usable, and why."""
    sources: dict[str, ClusterSources]
    """Per cluster: the sources its Kustomizations build from."""
    memo: ObjectMemo
    """What is worked out from one object's data (what it creates), once for the expansion and the
    rules (see :class:`~homeops.model.base.ObjectMemo`; nothing changes an object's data once built)."""

    _unshown = ("memo",)
    _uncompared = ("memo",)

    def __init__(
        self,
        tree: SourceTree,
        clusters: dict[str, Cluster] | None = None,
        producers: dict[tuple[str, NamedResource], Producer] | None = None,
        objects: list[Resource] | None = None,
        problems: list[LoadProblem] | None = None,
        documents: list[Resource] | None = None,
        unapplied_kustomizations: list[Resource] | None = None,
        bootstrap: Bootstrap | None = None,
        guessed: bool = False,
        entry_notes: list[str] | None = None,
        sources: dict[str, ClusterSources] | None = None,
    ) -> None:
        self.tree = tree
        self.clusters = {} if clusters is None else clusters
        self.producers = {} if producers is None else producers
        self.objects = [] if objects is None else objects
        self.problems = [] if problems is None else problems
        self.documents = [] if documents is None else documents
        self.unapplied_kustomizations = [] if unapplied_kustomizations is None else unapplied_kustomizations
        self.bootstrap = Bootstrap() if bootstrap is None else bootstrap
        self.guessed = guessed
        self.entry_notes = [] if entry_notes is None else entry_notes
        self.sources = {} if sources is None else sources
        self.memo = ObjectMemo()

    def bootstrap_objects(self, cluster: str) -> list[Resource]:
        """The bootstrap objects of one cluster (all of them when the repository has one cluster)."""
        if len(self.clusters) <= 1:
            return self.bootstrap.objects
        return [r for r in self.bootstrap.objects if cluster_name(r.origin.path) == cluster]

    def of_kind(self, kind: str, group: str | None = None) -> Iterator[Resource]:
        for res in self.objects:
            if res.kind == kind and (group is None or res.group == group):
                yield res

    def producer_of(self, res: Resource) -> Producer | None:
        key = res.notes.get(PRODUCER)
        cluster = res.notes.get(CLUSTER)
        if key is None or cluster is None:
            return None
        return self.producers.get((cluster, key))

    def files_applied(self) -> dict[str, set[str]]:
        """repo file → the clusters that apply (read) it."""
        out: dict[str, set[str]] = defaultdict(set)
        for producer in self.producers.values():
            for path in producer.files:
                out[path].add(producer.cluster)
        return out

    def written(self, producer: Producer) -> bool:
        """Whether the Kustomization is a document of the repository (not one homeops made from a
        sync definition: a FluxInstance's ``spec.sync``, a cluster-template's bootstrap)."""
        cluster = self.clusters.get(producer.cluster)
        if cluster is None:
            return True
        return not any(e.synthesized and e.ks.obj is producer.ks.res.obj for e in cluster.entries)

    def network_expiry(self, now: float) -> float | None:
        """Until when what the tree read over the network stays true (a remote base that could not be
        fetched is tried again, a branch moves: :func:`homeops.kustomize.remote.expiry`); None when
        nothing in it came from the network. Caches of results derived from the tree honour it."""
        from ..kustomize import remote
        from ..kustomize.kfile import KUSTOMIZATION_FILES
        from ..kustomize.loader import RemoteUnavailable

        failed = False
        files: set[str] = set()
        for producer in self.producers.values():
            error = producer.error
            if isinstance(error, RemoteUnavailable):
                failed = True
                if error.where is not None:
                    files.add(error.where.path)
            files.update(f for f in producer.files if posixpath.basename(f) in KUSTOMIZATION_FILES)
        return remote.expiry(
            self.tree, sorted(f for f in files if self.tree.is_file(f)), failed=failed, now=now
        )

    def own_sources(self, cluster: str) -> frozenset[tuple[str, str]]:
        """(kind, name) of the sources that are this repository in one cluster."""
        found = self.sources.get(cluster)
        return frozenset(found.own) if found is not None else frozenset({("GitRepository", "flux-system")})


# -- loading ------------------------------------------------------------------------------------


def load_documents(tree: SourceTree) -> tuple[list[Resource], list[LoadProblem]]:
    """Every Kubernetes-shaped YAML document of the repository, and the files that failed to parse.

    Go templates of Helm charts (``templates/`` next to a ``Chart.yaml``) are not YAML and are skipped.
    """
    docs: list[Resource] = []
    problems: list[LoadProblem] = []
    files = tree.yaml_files()
    charts = chart_folders(tree)
    if charts:
        files = [f for f in files if not in_chart_templates(f, charts)]
    tree.preload(files)
    for rel in files:
        try:
            parsed = tree.parsed(rel)
        except OSError as exc:
            problems.append(LoadProblem(rel, 0, f"cannot read: {exc.strerror or exc}"))
            continue
        if parsed.failure is not None:
            problems.append(LoadProblem(rel, parsed.failure.line, parsed.failure.reason))
            continue
        for index, (data, line) in enumerate(zip(parsed.documents, parsed.lines, strict=True)):
            if isinstance(data, dict) and isinstance(data.get("kind"), str) and "apiVersion" in data:
                docs.append(Resource(data, Origin(rel, line, index)))
    return docs, problems


def chart_folders(tree: SourceTree) -> frozenset[str]:
    """Folders of the repository that hold a Helm chart (a ``Chart.yaml``)."""
    return frozenset(posixpath.dirname(f) for f in tree.files() if posixpath.basename(f) == "Chart.yaml")


def in_chart_templates(path: str, charts: frozenset[str]) -> bool:
    """Whether ``path`` is one of a chart's Go templates (``<chart>/templates/…``)."""
    parts = path.split("/")
    for i, part in enumerate(parts[:-1]):
        if part == "templates" and "/".join(parts[:i]) in charts:
            return True
    return False


def load_flux_tree(
    tree: SourceTree, *, secret_values: SecretValues | None = None, offline: bool = False
) -> FluxTree:
    """Read a repository and expand every cluster's Flux tree.

    ``secret_values`` lets ``substituteFrom`` see real values of SOPS-encrypted Secrets (rendering
    with a key); without it their variables are known to exist but stay as written. ``offline``:
    remote kustomize bases only from homeops' cache, never the network.
    """
    docs, problems = load_documents(tree)
    result = FluxTree(tree=tree, problems=problems, documents=docs, bootstrap=find_bootstrap(tree))
    found = find_entries(tree, docs, result.bootstrap)
    result.guessed = found.guessed
    result.entry_notes = found.notes
    by_cluster: dict[str, list[Entry]] = defaultdict(list)
    for entry in found.entries:
        by_cluster[entry.cluster].append(entry)
    for name, entries in sorted(by_cluster.items()):
        result.clusters[name] = Cluster(
            name,
            tuple(e.ks.id for e in entries),
            tuple(sorted({e.ks.origin.path for e in entries})),
            tuple(entries),
        )
    runs = []
    sources_written = [d for d in docs if source_like(d)]  # what each cluster keeps, picked out once
    for name, entries in sorted(by_cluster.items()):
        own = {("GitRepository", "flux-system")}
        for entry in entries:
            ref = Kustomization(entry.ks).source_ref
            if ref is not None:
                own.add((ref.kind, ref.name))
        urls = [e.source_url for e in entries if e.source_url]
        sources = result.sources[name] = ClusterSources(tree, name, own, urls, sources_written)
        runs.append(
            (Expander(result, name, sources, secret_values, offline=offline), [e.ks for e in entries])
        )
    expand_clusters(result, runs)
    applied = {(res.origin.path, res.origin.index) for res in result.objects if is_flux_ks(res)}
    applied |= {(e.ks.origin.path, e.ks.origin.index) for e in found.entries if not e.synthesized}
    result.unapplied_kustomizations = [
        res for res in docs if is_flux_ks(res) and (res.origin.path, res.origin.index) not in applied
    ]
    return result


def resolve_dependency(tree: FluxTree, cluster: str, ref: ObjectRef) -> Producer | None:
    return tree.producers.get((cluster, NamedResource(ref.kind, ref.namespace, ref.name)))


def relative_to(folder: str, path: str) -> str:
    """``path`` relative to ``folder`` (both repo-relative), for messages."""
    return posixpath.relpath(path, folder or ".")


__all__ = [
    "CLUSTER",
    "PRODUCER",
    "SUBSTITUTION",
    "Cluster",
    "FluxTree",
    "LoadProblem",
    "Producer",
    "SecretValues",
    "cluster_name",
    "deep_copy",
    "expand_one",
    "find_roots",
    "load_documents",
    "load_flux_tree",
    "with_default_ns",
]
