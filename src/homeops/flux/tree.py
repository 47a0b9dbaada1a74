"""The Flux tree of a repository, as the controllers would see it.

From the repository's files this finds the cluster entry points (Flux Kustomizations that nothing else
in the repository applies), groups them into clusters, and follows every Kustomization's ``spec.path``
through kustomize (the native engine, Flux semantics) the way kustomize-controller does: Flux's own
overlays (``targetNamespace``, ``patches``, ``images``, ``components``) go into the build, then
``commonMetadata`` and post-build substitution. Child Kustomizations come out of their parent's build
already patched and substituted, exactly as Flux creates them, and are expanded in turn.

Every applied object ends up in :attr:`FluxTree.objects` with notes naming its producer and cluster.
Nothing here raises for a broken repository: build failures, missing paths and unresolved variables
are recorded on the :class:`Producer` so that every problem is reported at the end.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .. import parallel, progress
from ..errors import HomeopsError, Where
from ..kustomize import Overrides, build
from ..load.tree import SourceTree, normalize
from ..model.base import NamedResource, ObjectRef, Origin, Resource, deep_copy
from ..model.flux import FLUX_KUSTOMIZE_GROUP, Kustomization
from ..model.kinds import ConfigMap, Secret, is_sops_encrypted
from .bootstrap import Bootstrap, find_bootstrap
from .substitute import Outcome, Variables, disabled, substitute

#: Notes homeops attaches to every applied object.
PRODUCER = "producer"
CLUSTER = "cluster"
SUBSTITUTION = "substitution"
"""An :class:`Outcome` on objects whose substitution found missing variables or bad syntax."""

#: Folder names under ``kubernetes/`` that are not cluster names.
_NOT_CLUSTER_NAMES = frozenset(
    {
        "apps",
        "flux",
        "components",
        "bootstrap",
        "infrastructure",
        "infra",
        "platform",
        "core",
        "crds",
        "config",
        "base",
        "templates",
        "talos",
        "system",
        "cluster",
        "clusters",
        "shared",
        "common",
    }
)


class LoadProblem(NamedTuple):
    """A file that could not be read or parsed."""

    path: str
    line: int
    reason: str


@dataclass(slots=True)
class Producer:
    """One Flux Kustomization as a cluster applies it, and what it produces."""

    ks: Kustomization
    """The Kustomization as applied: parent patches and substitution already done."""
    cluster: str
    parent: NamedResource | None
    """The Kustomization that applies this one; None for an entry point."""
    path: str | None = None
    """Normalised repo-relative ``spec.path`` (None when it is not in this repository)."""
    external: bool = False
    """The source is not this repository (another Git repo, an OCI artifact): not built."""
    missing_path: bool = False
    """``spec.path`` names nothing in the repository (or climbs out of it): not built."""
    objects: list[Resource] = field(default_factory=list)
    files: frozenset[str] = frozenset()
    """Every file the build read."""
    error: HomeopsError | None = None
    fallback: str | None = None
    variables: Variables = field(default_factory=Variables)
    substitution: Outcome = field(default_factory=Outcome)
    missing_sources: list[tuple[str, str]] = field(default_factory=list)
    """``substituteFrom`` entries (kind, name) that nothing in the cluster provides."""

    @property
    def id(self) -> NamedResource:
        return self.ks.id


class Cluster(NamedTuple):
    name: str
    roots: tuple[NamedResource, ...]
    root_files: tuple[str, ...]


@dataclass(slots=True)
class FluxTree:
    """Everything homeops knows about one repository's Flux configuration."""

    tree: SourceTree
    clusters: dict[str, Cluster] = field(default_factory=dict)
    producers: dict[tuple[str, NamedResource], Producer] = field(default_factory=dict)
    objects: list[Resource] = field(default_factory=list)
    """Every object some Kustomization applies, in every cluster."""
    problems: list[LoadProblem] = field(default_factory=list)
    documents: list[Resource] = field(default_factory=list)
    """Every Kubernetes-shaped document in the repository, applied or not, as written."""
    unapplied_kustomizations: list[Resource] = field(default_factory=list)
    """Flux Kustomizations in the repository that no cluster applies and that are not entry points."""
    bootstrap: Bootstrap = field(default_factory=Bootstrap)
    """What exists before Flux runs (bootstrap helmfile and ``bootstrap/`` folders)."""

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


# -- loading ------------------------------------------------------------------------------------


def load_documents(tree: SourceTree) -> tuple[list[Resource], list[LoadProblem]]:
    """Every Kubernetes-shaped YAML document of the repository, and the files that failed to parse."""
    docs: list[Resource] = []
    problems: list[LoadProblem] = []
    tree.preload(tree.yaml_files())
    for rel in tree.yaml_files():
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


def _is_flux_ks(res: Resource) -> bool:
    return res.kind == "Kustomization" and res.group == FLUX_KUSTOMIZE_GROUP


def _ks_path(res: Resource) -> str | None:
    spec = res.obj.get("spec")
    raw = spec.get("path") if isinstance(spec, dict) else None
    if raw is None:
        return ""  # Flux builds the source root when spec.path is empty
    if not isinstance(raw, str) or "${" in raw:
        return None
    return normalize(raw.lstrip("/") if raw.startswith("/") else raw)


def _covers(folder: str, path: str) -> bool:
    return folder == "" or path == folder or path.startswith(folder + "/")


def find_roots(kustomizations: list[Resource]) -> list[Resource]:
    """Entry points: Flux Kustomizations whose file no *other* Kustomization's path covers."""
    owners: dict[str, list[int]] = defaultdict(list)
    for i, res in enumerate(kustomizations):
        folder = _ks_path(res)
        if folder:  # "" (the whole source) is not a claim on any folder in particular
            owners[folder].append(i)
    roots = []
    for i, res in enumerate(kustomizations):
        parts = res.origin.path.split("/")
        candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
        if not any(j != i for candidate in candidates for j in owners.get(candidate, ())):
            roots.append(res)
    return roots


def cluster_name(path: str) -> str:
    """The cluster an entry point belongs to, from where its file lives."""
    parts = path.split("/")
    if len(parts) >= 3 and parts[0] == "clusters":
        return parts[1]
    if len(parts) >= 3 and parts[0] == "kubernetes" and parts[1] not in _NOT_CLUSTER_NAMES:
        return parts[1]
    if len(parts) >= 3 and parts[1] == "clusters" and parts[0] in ("kubernetes", "k8s", "flux"):
        return parts[2]
    return "default"


# -- expansion ----------------------------------------------------------------------------------


SecretValues = Callable[[Resource], "Mapping[str, str] | None"]
"""Reads a SOPS-encrypted Secret's values (with a key), or returns None when it cannot."""


def load_flux_tree(tree: SourceTree, *, secret_values: SecretValues | None = None) -> FluxTree:
    """Read a repository and expand every cluster's Flux tree.

    ``secret_values`` lets ``substituteFrom`` see real values of SOPS-encrypted Secrets (rendering
    with a key); without it their variables are known to exist but stay as written.
    """
    docs, problems = load_documents(tree)
    result = FluxTree(tree=tree, problems=problems, documents=docs, bootstrap=find_bootstrap(tree))
    kustomizations = [res for res in docs if _is_flux_ks(res)]
    roots = find_roots(kustomizations)
    by_cluster: dict[str, list[Resource]] = defaultdict(list)
    for root in roots:
        by_cluster[cluster_name(root.origin.path)].append(root)
    for name, cluster_roots in sorted(by_cluster.items()):
        result.clusters[name] = Cluster(
            name,
            tuple(with_default_ns(r).id for r in cluster_roots),
            tuple(sorted({r.origin.path for r in cluster_roots})),
        )
        _Expander(result, name, docs, secret_values).run(cluster_roots)
    applied = {(res.origin.path, res.origin.index) for res in result.objects if _is_flux_ks(res)}
    root_keys = {(r.origin.path, r.origin.index) for r in roots}
    result.unapplied_kustomizations = [
        res for res in kustomizations if (res.origin.path, res.origin.index) not in applied | root_keys
    ]
    return result


def with_default_ns(res: Resource) -> Resource:
    """The Kustomization with ``flux-system`` as its namespace when it names none."""
    if res.namespace:
        return res
    obj = dict(res.obj)
    meta = dict(res.metadata)
    meta["namespace"] = "flux-system"
    obj["metadata"] = meta
    return Resource(obj, res.origin, dict(res.notes))


class _Expander:
    """Breadth-first expansion of one cluster, deferring Kustomizations whose variables are not known."""

    def __init__(
        self, result: FluxTree, cluster: str, docs: list[Resource], secret_values: SecretValues | None = None
    ) -> None:
        self.result = result
        self.secret_values = secret_values
        self.tree = result.tree
        self.cluster = cluster
        self.docs = docs
        self.seen: set[NamedResource] = set()
        self.config_maps: dict[tuple[str, str], Resource] = {}
        self.secrets: dict[tuple[str, str], Resource] = {}
        for res in result.bootstrap_objects(cluster):
            self._remember(res)
        self.own_sources: set[tuple[str, str]] = {("GitRepository", "flux-system")}
        self.considered: dict[int, Resource] = {}
        """Queued Kustomizations already looked at for building ahead (by id; kept alive here)."""
        self.ahead: dict[int, tuple[Any, ...]] = {}
        """Builds done ahead (see :meth:`_build_ahead`), by id of the queued Kustomization."""

    def run(self, roots: list[Resource]) -> None:
        # The sources the entry points build from are this repository.
        for root in roots:
            ref = Kustomization(root).source_ref
            if ref is not None:
                self.own_sources.add((ref.kind, ref.name))
        queue: deque[tuple[Resource, NamedResource | None, int]] = deque(
            (with_default_ns(root), None, 0) for root in roots
        )
        while queue:
            if id(queue[0][0]) not in self.considered:
                self._build_ahead([res for res, _parent, _deferrals in queue])
            res, parent, deferrals = queue.popleft()
            ks = Kustomization(res)
            if ks.id in self.seen:
                continue
            if deferrals < 1 and queue and self._unresolved_sources(ks):
                queue.append((res, parent, deferrals + 1))
                continue
            self.seen.add(ks.id)
            producer = self._expand(ks, parent)
            self.result.producers[(self.cluster, ks.id)] = producer
            progress.step(len(self.seen), len(self.seen) + len(queue), "expanding Kustomizations")
            for child in producer.objects:
                if _is_flux_ks(child):
                    queue.append((with_default_ns(child), ks.id, 0))

    def _unresolved_sources(self, ks: Kustomization) -> bool:
        for ref in ks.substitute_from:
            index = self.config_maps if ref.kind == "ConfigMap" else self.secrets
            if (ks.namespace, ref.name) not in index:
                return True
        return False

    def _build_ahead(self, queued: list[Resource]) -> None:
        """Build the folders of many queued Kustomizations on two cores, before expanding them in order.

        A build depends only on the files and the Kustomization itself, so doing it early changes
        nothing; substitution and the rest still happen in queue order. A build that fails here is
        simply done again in order, where its error is recorded as usual.
        """
        jobs: list[Kustomization] = []
        for res in queued:
            if id(res) in self.considered:
                continue
            self.considered[id(res)] = res
            ks = Kustomization(res)
            if ks.id not in self.seen and isinstance(self._target(ks), tuple):
                jobs.append(ks)
        if len(jobs) < _PARALLEL_MIN_BUILDS:
            return
        built = parallel.run(jobs, self._build_plain, meanwhile=True, what="building Kustomizations")
        for ks, plain in zip(jobs, built, strict=True):
            if plain is not None:
                self.ahead[id(ks.res)] = plain

    def _build_plain(self, ks: Kustomization) -> tuple[Any, ...] | None:
        """One build as plain data (it may come back from the helper process); None when it fails.

        Without ``substituteFrom`` the variables are the Kustomization's own, so each object is also
        finished (commonMetadata, substitution) here: [obj, path, line, index, outcome or None].
        """
        target = self._target(ks)
        assert isinstance(target, tuple)
        path, overrides = target
        try:
            built = build(self.tree, path, overrides=overrides, flux=True)
        except HomeopsError:
            return None
        objects: list[Any] = [[r.obj, r.origin.path, r.origin.line, r.origin.index] for r in built.resources]
        finished = not ks.substitute_from
        if finished:
            variables, missing = self._variables(ks)
            for entry in objects:
                entry[0], outcome = _content(entry[0], ks, variables, missing)
                entry.append((outcome.missing, outcome.used, outcome.errors) if outcome else None)
        return objects, sorted(built.files), built.fallback, finished

    def _target(self, ks: Kustomization) -> tuple[str, Overrides] | str:
        """What to build for a Kustomization: (path, Flux's overrides), or why nothing is built."""
        source = ks.source_ref
        if source is not None and (source.kind, source.name) not in self.own_sources:
            return "external"
        path = _ks_path(ks.res)
        if path is None or not self.tree.exists(path):
            return "missing"
        overrides = Overrides(
            namespace=ks.target_namespace,
            patches=ks.patches,
            images=ks.images,
            components=ks.components,
            name_prefix=ks.name_prefix,
            name_suffix=ks.name_suffix,
        )
        return path, overrides

    def _expand(self, ks: Kustomization, parent: NamedResource | None) -> Producer:
        producer = Producer(ks=ks, cluster=self.cluster, parent=parent)
        target = self._target(ks)
        if target == "external":
            producer.external = True
            return producer
        if not isinstance(target, tuple):
            producer.missing_path = True
            return producer
        path, overrides = target
        producer.path = path
        ahead = self.ahead.pop(id(ks.res), None)
        if ahead is not None:
            return self._expanded_ahead(producer, ahead)
        try:
            built = build(self.tree, path, overrides=overrides, flux=True)
        except HomeopsError as exc:
            if exc.where is None or exc.where.line == 0:
                # The engine could not place it: it came from this Kustomization's own spec (its
                # patches, images, components), so point at that.
                field = "patches" if ks.patches else "path"
                exc.where = Where(ks.origin.path, _line_of(self.tree, ks.res, "spec", field))
            producer.error = exc
            return producer
        producer.files = built.files
        producer.fallback = built.fallback
        producer.variables, producer.missing_sources = self._variables(ks)
        finished = []
        for res in built.resources:
            obj, outcome = _content(res.obj, ks, producer.variables, producer.missing_sources)
            finished.append(self._record(Resource(obj, res.origin, dict(res.notes)), outcome, producer))
        return self._produced(producer, finished)

    def _expanded_ahead(self, producer: Producer, plain: tuple[Any, ...]) -> Producer:
        """:meth:`_expand`'s result from a build done ahead (see :meth:`_build_plain`)."""
        objects, files, fallback, finished = plain
        producer.files = frozenset(files)
        producer.fallback = fallback
        producer.variables, producer.missing_sources = self._variables(producer.ks)
        done = []
        for entry in objects:
            obj, path, line, index = entry[:4]
            outcome = None
            if finished:
                outcome = Outcome(set(entry[4][0]), set(entry[4][1]), list(entry[4][2])) if entry[4] else None
            else:
                obj, outcome = _content(obj, producer.ks, producer.variables, producer.missing_sources)
            done.append(self._record(Resource(obj, Origin(path, line, index)), outcome, producer))
        return self._produced(producer, done)

    def _record(self, res: Resource, outcome: Outcome | None, producer: Producer) -> Resource:
        """Note where an object comes from and what its substitution found."""
        if outcome is not None:
            if outcome.missing or outcome.errors:
                res.notes[SUBSTITUTION] = outcome
            producer.substitution.missing |= outcome.missing
            producer.substitution.used |= outcome.used
            producer.substitution.errors.extend(outcome.errors)
        res.notes[PRODUCER] = producer.ks.id
        res.notes[CLUSTER] = self.cluster
        return res

    def _produced(self, producer: Producer, objects: list[Resource]) -> Producer:
        producer.objects = objects
        self.result.objects.extend(objects)
        for res in objects:
            self._remember(res)
        return producer

    def _remember(self, res: Resource) -> None:
        key = (res.namespace, res.name)
        if res.kind == "ConfigMap" and res.group == "":
            self.config_maps.setdefault(key, res)
        elif res.kind == "Secret" and res.group == "":
            self.secrets.setdefault(key, res)

    def _variables(self, ks: Kustomization) -> tuple[Variables, list[tuple[str, str]]]:
        values: dict[str, str] = {}
        opaque: set[str] = set()
        missing: list[tuple[str, str]] = []
        for ref in ks.substitute_from:
            index = self.config_maps if ref.kind == "ConfigMap" else self.secrets
            found = index.get((ks.namespace, ref.name))
            if found is None:
                if not ref.optional:
                    missing.append((ref.kind, ref.name))
                continue
            if ref.kind == "ConfigMap":
                values.update({k: v.replace("\n", "") for k, v in ConfigMap(found).data.items()})
            elif is_sops_encrypted(found.obj):
                decrypted = self.secret_values(found) if self.secret_values else None
                if decrypted is None:
                    opaque.update(str(k) for k in _secret_keys(found))
                else:
                    values.update({k: v.replace("\n", "") for k, v in decrypted.items()})
            else:
                for key, value in Secret(found).values().items():
                    if value.strip().startswith("op://"):
                        opaque.add(key)  # filled in by `op inject` at bootstrap: exists, value unknown
                    else:
                        values[key] = value.replace("\n", "")
        values.update({k: v.replace("\n", "") for k, v in ks.substitute.items()})
        return Variables(values, frozenset(opaque)), missing


def _content(
    obj: dict[str, Any], ks: Kustomization, variables: Variables, missing_sources: list[tuple[str, str]]
) -> tuple[dict[str, Any], Outcome | None]:
    """An object as Flux applies it: ``commonMetadata``, then post-build substitution (and its outcome)."""
    common = ks.common_metadata
    if common:
        obj = _apply_common_metadata(obj, common)
    if ks.has_post_build and not disabled(obj) and not is_sops_encrypted(obj):
        if variables or missing_sources or ks.substitute_from:
            outcome = Outcome()
            return substitute(obj, variables, outcome), outcome
    return obj, None


_PARALLEL_MIN_BUILDS = 16
"""Fewer builds than this are done in order: a helper process would cost more than it saves."""


def _line_of(tree: SourceTree, res: Resource, *path: str) -> int:
    from ..load import yamlio

    try:
        nodes = yamlio.compose(yamlio.decode(tree.read_bytes(res.origin.path)), tags=False)
    except (OSError, UnicodeDecodeError):
        return res.origin.line
    return yamlio.locate(nodes[res.origin.index], path) if res.origin.index < len(nodes) else res.origin.line


def expand_one(
    tree: SourceTree,
    cluster: str,
    ks: Resource,
    parent: NamedResource | None,
    *,
    known: Iterable[Resource],
    own_sources: Iterable[tuple[str, str]],
    secret_values: SecretValues | None = None,
) -> Producer:
    """Expand one Kustomization exactly as :func:`load_flux_tree` does, with the ConfigMaps and
    Secrets of the rest of its cluster (``known``) already there. Used to re-render part of a tree."""
    expander = _Expander(FluxTree(tree=tree), cluster, [], secret_values)
    expander.own_sources = set(own_sources)
    for res in known:
        expander._remember(res)
    return expander._expand(Kustomization(ks), parent)


def _secret_keys(res: Resource) -> Iterable[Any]:
    for field_name in ("data", "stringData"):
        values = res.obj.get(field_name)
        if isinstance(values, dict):
            yield from values


def _apply_common_metadata(obj: dict[str, Any], common: Any) -> dict[str, Any]:
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    for key in ("labels", "annotations"):
        extra = common.get(key) if isinstance(common, dict) else None
        if isinstance(extra, dict) and extra:
            merged = dict(meta.get(key) or {})
            merged.update({str(k): str(v) for k, v in extra.items()})
            meta[key] = merged
    out["metadata"] = meta
    return out


def resolve_dependency(tree: FluxTree, cluster: str, ref: ObjectRef) -> Producer | None:
    return tree.producers.get((cluster, NamedResource(ref.kind, ref.namespace, ref.name)))


def relative_to(folder: str, path: str) -> str:
    """``path`` relative to ``folder`` (both repo-relative), for messages."""
    return posixpath.relpath(path, folder or ".")


__all__ = [
    "CLUSTER",
    "PRODUCER",
    "Cluster",
    "FluxTree",
    "LoadProblem",
    "Producer",
    "deep_copy",
    "load_flux_tree",
]
