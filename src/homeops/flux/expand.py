"""Expanding a cluster from its entry points, as kustomize-controller reconciles it.

Each Flux Kustomization is built from its source's artifact (:mod:`homeops.flux.sources`) at its
``spec.path``, with Flux's own overlays (``targetNamespace``, ``patches``, ``images``,
``components``, name prefix and suffix) put into the root kustomization first, then
``commonMetadata`` and post-build substitution. Child Kustomizations come out of their parent's build
already patched and substituted, exactly as Flux creates them, and are expanded in turn, breadth
first; one whose ``substituteFrom`` names a ConfigMap or Secret not produced yet waits a turn.

Objects built from an artifact that is not the repository itself (an ExternalArtifact, a
GitRepository with includes) get their origins mapped back to the repository files they came from.
Nothing here raises for a broken repository: build failures, missing paths and unresolved variables
are recorded on the :class:`~homeops.flux.tree.Producer`.
"""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .. import parallel, progress
from ..errors import HomeopsError, LoadError, Where
from ..kustomize import Overrides, build
from ..load.tree import SourceTree
from ..model.base import NamedResource, Origin, Resource
from ..model.kinds import ConfigMap, Secret, is_sops_encrypted
from ..model.producers import is_sealed, memo_products, sealed_may_be
from ..records import NamedTuple
from .entries import is_flux_ks, ks_path, with_default_ns
from .sources import BuildSource, ClusterSources
from .substitute import Outcome, Variables, disabled, substitute

if TYPE_CHECKING:
    from ..model.flux import Kustomization
    from .tree import FluxTree, Producer

#: Notes homeops attaches to every applied object.
PRODUCER = "producer"
CLUSTER = "cluster"
SUBSTITUTION = "substitution"
"""An :class:`Outcome` on objects whose substitution found missing variables or bad syntax."""

SecretValues = Callable[[Resource], "Mapping[str, str] | None"]
"""Reads a SOPS-encrypted Secret's values (with a key), or returns None when it cannot."""

_PARALLEL_MIN_BUILDS = 16
"""Fewer builds than this are done in order: a helper process would cost more than it saves."""


class Target(NamedTuple):
    """What one Kustomization builds: the source, the folder inside it, Flux's overrides."""

    source: BuildSource
    path: str
    overrides: Overrides


class Job(NamedTuple):
    """One build that can be done ahead: which cluster's expander asks for it, for which Kustomization."""

    expander: Expander
    ks: Kustomization
    target: Target
    variables: Variables | None = None
    """The Kustomization's variables when they are settled already (:meth:`Expander.settled`): its
    objects are then finished (substituted) with the build, ahead too."""


def expand_clusters(result: FluxTree, runs: Iterable[tuple[Expander, Iterable[Resource]]]) -> None:
    """Expand clusters from their roots into ``result``, exactly as one after the other would.

    Each cluster's expansion (:meth:`Expander.steps`) pauses before each wave of new Kustomizations;
    the builds of every cluster's wave are then done ahead together, so that clusters too small to be
    worth a helper process alone (a dozen clusters of a few Kustomizations each) share the second
    core. Expanders keep their producers and objects to themselves until the end, when they go into
    ``result`` cluster by cluster, in the order of ``runs``.
    """
    expanders = []
    waiting: list[tuple[Iterator[list[Job]], list[Job]]] = []
    for expander, roots in runs:
        expanders.append(expander)
        steps = expander.steps(roots)
        wave = next(steps, None)
        if wave is not None:
            waiting.append((steps, wave))
    while waiting:
        jobs = [job for _steps, wave in waiting for job in wave]
        if len(jobs) >= _PARALLEL_MIN_BUILDS:
            jobs = [job._replace(variables=job.expander.settled(job.ks)) for job in jobs]
            built = parallel.run(jobs, _build_plain, meanwhile=True, what="building Kustomizations")
            for job, plain in zip(jobs, built, strict=True):
                if plain is not None:
                    job.expander.ahead[id(job.ks.res)] = (plain, job.variables)
        waiting = [(steps, wave) for steps, _done in waiting if (wave := next(steps, None)) is not None]
    for expander in expanders:
        result.producers.update(expander.producers)
        result.objects.extend(expander.objects)


def _build_plain(job: Job) -> tuple[Any, ...] | None:
    return job.expander.build_plain(job.ks, job.target, job.variables)


class Expander:
    """Breadth-first expansion of one cluster, deferring Kustomizations whose variables are not known."""

    def __init__(
        self,
        result: FluxTree,
        cluster: str,
        sources: ClusterSources,
        secret_values: SecretValues | None = None,
        *,
        offline: bool = False,
    ) -> None:
        self.secret_values = secret_values
        self.offline = offline
        """Remote kustomize bases only from homeops' cache."""
        self.tree = result.tree
        self.memo = result.memo
        self.cluster = cluster
        self.sources = sources
        self.seen: set[NamedResource] = set()
        self.config_maps: dict[tuple[str, str], Resource] = {}
        self.secrets: dict[tuple[str, str], Resource] = {}
        self.made: dict[tuple[str, str, str], Resource] = {}
        """(kind, namespace, name) of ConfigMaps and Secrets an operator makes (an ExternalSecret's
        target): they exist, with names homeops cannot read."""
        self.sealed: list[Resource] = []
        """SOPS documents encrypted whole: they may be any Secret or ConfigMap of their shape."""
        for res in result.bootstrap_objects(cluster):
            self.remember(res)
        self.considered: dict[int, Resource] = {}
        """Queued Kustomizations already looked at for building ahead (by id; kept alive here)."""
        self.ahead: dict[int, tuple[tuple[Any, ...], Variables | None]] = {}
        """Builds done ahead (see :func:`expand_clusters`) and the variables they were finished with,
        by id of the queued Kustomization."""
        self.producers: dict[tuple[str, NamedResource], Producer] = {}
        """What :meth:`steps` expanded, keyed as :attr:`FluxTree.producers`."""
        self.objects: list[Resource] = []
        """What :meth:`expand` produced, in order (the cluster's part of :attr:`FluxTree.objects`)."""

    def steps(self, roots: Iterable[Resource]) -> Iterator[list[Job]]:
        """Expand the cluster from its roots, pausing before each wave of newly queued Kustomizations
        with the builds that wave needs, which :func:`expand_clusters` may do ahead meanwhile."""
        from ..model.flux import Kustomization

        queue: deque[tuple[Resource, NamedResource | None, int]] = deque(
            (with_default_ns(root), None, 0) for root in roots
        )
        while queue:
            if id(queue[0][0]) not in self.considered:
                yield self._wave([res for res, _parent, _deferrals in queue])
            res, parent, deferrals = queue.popleft()
            ks = Kustomization(res)
            if ks.id in self.seen:
                continue
            if deferrals < 1 and queue and self._unresolved_sources(ks):
                queue.append((res, parent, deferrals + 1))
                continue
            self.seen.add(ks.id)
            producer = self.expand(ks, parent)
            self.producers[(self.cluster, ks.id)] = producer
            progress.step(len(self.seen), len(self.seen) + len(queue), "expanding Kustomizations")
            for child in producer.objects:
                if is_flux_ks(child):
                    queue.append((with_default_ns(child), ks.id, 0))

    def _unresolved_sources(self, ks: Kustomization) -> bool:
        for ref in ks.substitute_from:
            index = self.config_maps if ref.kind == "ConfigMap" else self.secrets
            if (
                (ks.namespace, ref.name) not in index
                and (ref.kind, ks.namespace, ref.name) not in self.made
                and not self._sealed(ref.kind, ks.namespace)
            ):
                return True
        return False

    def _wave(self, queued: list[Resource]) -> list[Job]:
        """The builds of the queued Kustomizations not looked at yet, which may be done ahead.

        A build depends only on the files and the Kustomization itself, so doing it early changes
        nothing; substitution and the rest still happen in queue order. A build that fails ahead is
        simply done again in order, where its error is recorded as usual.
        """
        from ..model.flux import Kustomization

        jobs: list[Job] = []
        for res in queued:
            if id(res) in self.considered:
                continue
            self.considered[id(res)] = res
            ks = Kustomization(res)
            target = self.target(ks)
            if ks.id not in self.seen and isinstance(target, Target):
                jobs.append(Job(self, ks, target))
        return jobs

    def settled(self, ks: Kustomization) -> Variables | None:
        """The variables ``ks`` will substitute with, when they cannot change any more; else None.

        They are settled once every ``substituteFrom`` source is known: the indexes keep the first
        object of each name (as :meth:`remember` fills them), so nothing expanded later changes what
        :meth:`variables` finds, and none is missing. Without ``substituteFrom`` they are the
        Kustomization's own ``substitute``.
        """
        for ref in ks.substitute_from:
            index = self.config_maps if ref.kind == "ConfigMap" else self.secrets
            if (ks.namespace, ref.name) not in index:
                return None
        return self.variables(ks)[0]

    def build_plain(
        self, ks: Kustomization, target: Target, variables: Variables | None
    ) -> tuple[Any, ...] | None:
        """One build as plain data (it may come back from the helper process); None when it fails.

        With its ``variables`` settled (:meth:`settled`), each object is also finished
        (commonMetadata, substitution) here: [obj, path, line, index, outcome or None].
        """
        try:
            built = build(
                target.source.tree, target.path, overrides=target.overrides, flux=True, offline=self.offline
            )
        except HomeopsError:
            return None
        source = target.source
        objects: list[Any] = [
            [r.obj, source.repo_path(r.origin.path), r.origin.line, r.origin.index] for r in built.resources
        ]
        if variables is not None:
            for entry in objects:
                entry[0], outcome = content(entry[0], ks, variables, [])
                entry.append((outcome.missing, outcome.used, outcome.errors) if outcome else None)
        return objects, sorted(source.repo_path(f) for f in built.files), built.fallback

    def target(self, ks: Kustomization) -> Target | str:
        """What a Kustomization builds, or why nothing is built: ``external`` (its source is not this
        repository), ``missing`` (its path is not in the source), or the source's own error."""
        ref = ks.source_ref
        source = self.sources.resolve(ref) if ref is not None else self.sources.resolve_default()
        if source is None:
            return "external"
        if source.error is not None:
            return source.error
        path = ks_path(ks.res)
        if path is None or not source.tree.exists(path):
            return "external" if source.partial else "missing"
        overrides = Overrides(
            namespace=ks.target_namespace,
            patches=ks.patches,
            images=ks.images,
            components=ks.components,
            name_prefix=ks.name_prefix,
            name_suffix=ks.name_suffix,
        )
        return Target(source, path, overrides)

    def expand(self, ks: Kustomization, parent: NamedResource | None) -> Producer:
        from .tree import Producer

        producer = Producer(ks=ks, cluster=self.cluster, parent=parent)
        target = self.target(ks)
        if target == "external":
            producer.external = True
            return producer
        if target == "missing":
            producer.missing_path = True
            return producer
        if isinstance(target, str):
            source = self.sources.resolve(ks.source_ref) if ks.source_ref else None
            definer = source.origin if source is not None and source.origin is not None else ks.res
            producer.error = LoadError(
                f"its source cannot be produced: {target}",
                where=Where(definer.origin.path, definer.origin.line),
                hint="fix the ArtifactGenerator's copy operations (source-watcher fails the whole artifact)",
            )
            producer.source = source.label if source is not None else None
            return producer
        producer.path = target.path
        producer.source = target.source.label
        ahead = self.ahead.pop(id(ks.res), None)
        if ahead is not None:
            return self._expanded_ahead(producer, *ahead)
        source = target.source
        try:
            built = build(
                source.tree, target.path, overrides=target.overrides, flux=True, offline=self.offline
            )
        except HomeopsError as exc:
            # A copy per producer: the loader raises one cached error for every build that reaches
            # the same unreadable file, and each build places it its own way.
            where = exc.where
            if where is None or where.line == 0:
                # The engine could not place it: it came from this Kustomization's own spec (its
                # patches, images, components), so point at that.
                field = "patches" if ks.patches else "path"
                where = Where(ks.origin.path, line_of(self.tree, ks.res, "spec", field))
            elif source.to_repo is not None:
                where = Where(source.repo_path(where.path), where.line)
            producer.error = exc.at(where)
            return producer
        producer.files = frozenset(source.repo_path(f) for f in built.files)
        producer.fallback = built.fallback
        self._own_sources(producer, [r.obj for r in built.resources])
        finished = []
        for res in built.resources:
            obj, outcome = content(res.obj, ks, producer.variables, producer.missing_sources)
            origin = res.origin
            if source.to_repo is not None:
                origin = Origin(source.repo_path(origin.path), origin.line, origin.index)
            finished.append(self._record(Resource(obj, origin, dict(res.notes)), outcome, producer))
        return self._produced(producer, finished)

    def _expanded_ahead(
        self, producer: Producer, plain: tuple[Any, ...], variables: Variables | None
    ) -> Producer:
        """:meth:`expand`'s result from a build done ahead (see :meth:`build_plain`), finished there
        with ``variables`` when they were settled."""
        objects, files, fallback = plain
        producer.files = frozenset(files)
        producer.fallback = fallback
        if variables is not None:
            producer.variables, producer.missing_sources = variables, []
        else:
            self._own_sources(producer, [entry[0] for entry in objects])
        done = []
        for entry in objects:
            obj, path, line, index = entry[:4]
            outcome = None
            if variables is not None:
                outcome = Outcome(set(entry[4][0]), set(entry[4][1]), list(entry[4][2])) if entry[4] else None
            else:
                obj, outcome = content(obj, producer.ks, producer.variables, producer.missing_sources)
            done.append(self._record(Resource(obj, Origin(path, line, index)), outcome, producer))
        return self._produced(producer, done)

    def _own_sources(self, producer: Producer, objects: list[dict[str, Any]]) -> None:
        """The variables of a build, counting the ConfigMaps and Secrets the Kustomization makes itself
        and substitutes from: that works once they exist (after a first apply), which
        :attr:`Producer.self_sources` records for the bootstrap-order note."""
        producer.variables, producer.missing_sources = self.variables(producer.ks)
        if not producer.missing_sources:
            return
        namespace = producer.ks.namespace
        made = {
            (str(obj.get("kind")), str((obj.get("metadata") or {}).get("name"))): obj
            for obj in objects
            if isinstance(obj, dict) and (obj.get("metadata") or {}).get("namespace", namespace) == namespace
        }
        own = [entry for entry in producer.missing_sources if entry in made]
        if not own:
            return
        for kind, name in own:
            self.remember(Resource(made[(kind, name)], producer.ks.origin))
        producer.self_sources = own
        producer.variables, producer.missing_sources = self.variables(producer.ks)

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
        self.objects.extend(objects)
        for res in objects:
            self.remember(res)
        return producer

    def remember(self, res: Resource) -> None:
        if is_sealed(res):
            self.sealed.append(res)
            return
        key = (res.namespace, res.name)
        if res.kind == "ConfigMap" and res.group == "":
            self.config_maps.setdefault(key, res)
        elif res.kind == "Secret" and res.group == "":
            self.secrets.setdefault(key, res)
        else:
            self.sources.note(res)
            for made in memo_products(self.memo, res, (res.group, res.kind)):
                if made.kind in ("ConfigMap", "Secret") and not made.prefix:
                    self.made.setdefault((made.kind, made.namespace, made.name), res)

    def _sealed(self, kind: str, namespace: str) -> bool:
        return any(sealed_may_be(res, kind, namespace) for res in self.sealed)

    def variables(self, ks: Kustomization) -> tuple[Variables, list[tuple[str, str]]]:
        values: dict[str, str] = {}
        opaque: set[str] = set()
        missing: list[tuple[str, str]] = []
        unknown = False
        for ref in ks.substitute_from:
            index = self.config_maps if ref.kind == "ConfigMap" else self.secrets
            found = index.get((ks.namespace, ref.name))
            if found is None:
                if (ref.kind, ks.namespace, ref.name) in self.made or self._sealed(ref.kind, ks.namespace):
                    # an ExternalSecret's target, or a document encrypted whole that may be it: it
                    # exists, its keys and values cannot be read here
                    unknown = True
                elif not ref.optional:
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
        return Variables(values, frozenset(opaque), unknown), missing


def content(
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


def line_of(tree: SourceTree, res: Resource, *path: str) -> int:
    from ..load import yamlio

    try:
        nodes = yamlio.compose(yamlio.decode(tree.read_bytes(res.origin.path)), tags=False)
    except (OSError, UnicodeDecodeError):
        return res.origin.line
    return yamlio.locate(nodes[res.origin.index], path) if res.origin.index < len(nodes) else res.origin.line


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


_DOCUMENTS: weakref.WeakKeyDictionary[SourceTree, list[Resource]] = weakref.WeakKeyDictionary()
"""The documents of trees :func:`expand_one` was called on, found once per tree."""


def expand_one(
    tree: SourceTree,
    cluster: str,
    ks: Resource,
    parent: NamedResource | None,
    *,
    known: Iterable[Resource],
    own_sources: Iterable[tuple[str, str]],
    secret_values: SecretValues | None = None,
    sources: ClusterSources | None = None,
    offline: bool = False,
) -> Producer:
    """Expand one Kustomization exactly as :func:`~homeops.flux.tree.load_flux_tree` does, with the
    ConfigMaps, Secrets and sources of the rest of its cluster (``known``) already there. Used to
    re-render part of a tree. ``own_sources``: (kind, name) of the sources that are this repository;
    ``sources``: the cluster's sources when the caller has them (else found from the files)."""
    from .tree import FluxTree, load_documents

    if sources is None:
        documents = _DOCUMENTS.get(tree)
        if documents is None:
            documents = _DOCUMENTS[tree] = load_documents(tree)[0]
        sources = ClusterSources(tree, cluster, own_sources, (), documents)
    expander = Expander(FluxTree(tree=tree), cluster, sources, secret_values, offline=offline)
    for res in known:
        expander.remember(res)
    from ..model.flux import Kustomization

    return expander.expand(Kustomization(ks), parent)
