"""What rules read: the Flux tree, per-cluster indexes of what exists, and field → line lookup."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from ..flux.artifacts import artifact_specs, is_generator
from ..flux.bootstrap import Bootstrap
from ..flux.provenance import Provenance
from ..flux.tree import CLUSTER, FluxTree, Producer
from ..graph.model import Graph, build_graph
from ..load import yamlio
from ..model.base import NamedResource, ObjectMemo, Resource, strings
from ..model.flux import FLUX_HELM_GROUP, FLUX_SOURCE_GROUP, HelmRelease, Kustomization
from ..model.kinds import GATEWAY_GROUP
from ..model.producers import ANY_NAMESPACE, is_sealed, memo_products, sealed_may_be, with_extra
from ..model.values import is_app_template_values
from ..records import Record
from .base import Hit
from .config import Config, ProducerEntry

if TYPE_CHECKING:
    from ..configure.ledger import Ledger
    from ..flux.reasons import Reason

T = TypeVar("T")

LEDGER_FOLDER = ".homeops"
"""Where ``homeops configure`` keeps its ledger (``configure.ledger.LEDGER_PATH`` is inside it)."""


class ClusterIndex(Record):
    """What one cluster's Kustomizations produce, keyed by (namespace, name)."""

    __slots__ = (
        "claims",
        "config_maps",
        "gateways",
        "helm_releases",
        "objects",
        "prefixes",
        "sealed",
        "secrets",
        "sources",
    )

    secrets: dict[tuple[str, str], list[Resource]]
    """Secret name → the objects that produce it (Secret, ExternalSecret, Certificate, CNPG Cluster)."""
    config_maps: dict[tuple[str, str], list[Resource]]
    claims: dict[tuple[str, str], list[Resource]]
    gateways: dict[tuple[str, str], Resource]
    sources: dict[NamedResource, Resource]
    """Sources by id; an ExternalArtifact's entry is the ArtifactGenerator that makes it."""
    helm_releases: dict[NamedResource, Resource]
    objects: list[Resource]
    prefixes: list[tuple[str, str, str]]
    """(kind, namespace, prefix): names a vendor chart may create (see :mod:`homeops.model.producers`)."""
    sealed: list[Resource]
    """SOPS documents encrypted whole: what they decrypt to cannot be named offline."""

    def __init__(self) -> None:
        self.secrets = defaultdict(list)
        self.config_maps = defaultdict(list)
        self.claims = defaultdict(list)
        self.gateways = {}
        self.sources = {}
        self.helm_releases = {}
        self.objects = []
        self.prefixes = []
        self.sealed = []

    def produces(
        self,
        kind: str,
        namespace: str,
        name: str,
        *,
        charts: bool = True,
        keys: tuple[str, ...] = (),
        reader: Resource | None = None,
    ) -> bool:
        """Whether something in the cluster creates this Secret, ConfigMap or claim; ``charts``: also
        count names a vendor chart's release may create (not for what the release itself reads);
        ``keys`` and ``reader``: what a document encrypted whole must hold, and where it must be
        applied, to count (see :func:`homeops.model.producers.sealed_may_be`)."""
        table = {"Secret": self.secrets, "ConfigMap": self.config_maps, "PersistentVolumeClaim": self.claims}
        found = table.get(kind)
        if found is None:
            return False
        if found.get((namespace, name)) or found.get((ANY_NAMESPACE, name)):
            return True
        if namespace == "default" and found.get(("", name)):
            return True
        if any(sealed_may_be(res, kind, namespace, keys, reader=reader) for res in self.sealed):
            return True
        return charts and any(
            k == kind and ns in (namespace, ANY_NAMESPACE) and name.startswith(prefix)
            for k, ns, prefix in self.prefixes
        )


class Context:
    """Read-only inputs of every rule."""

    def __init__(self, flux: FluxTree, config: Config | None = None) -> None:
        self.flux = flux
        self.tree = flux.tree
        self.config = config or Config()
        self._lines: dict[str, list[str] | None] = {}
        self._memo: dict[str, Any] = {}
        self._kinds: dict[int, KindIndex] = {}

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """A value several rules need, computed by the first that asks (``key`` names it)."""
        if key not in self._memo:
            self._memo[key] = compute()
        found: T = self._memo[key]
        return found

    # -- locations -----------------------------------------------------------------------------

    def line_of(self, res: Resource, *path: str | int) -> int:
        """1-based line of a field of an object in its file (the document start when unknown)."""
        if not path:
            return res.origin.line
        nodes = self.provenance.nodes(res.origin.path)  # composed once per file for both
        if res.origin.index >= len(nodes):
            return res.origin.line
        return yamlio.locate(nodes[res.origin.index], path)

    def lines(self, path: str) -> list[str] | None:
        """The lines of a repository file (None when it cannot be read as UTF-8), read once."""
        if path not in self._lines:
            try:
                self._lines[path] = self.tree.read_text(path).splitlines()
            except (OSError, UnicodeDecodeError):
                self._lines[path] = None
        return self._lines[path]

    @cached_property
    def provenance(self) -> Provenance:
        return Provenance(self.flux)

    def hit(self, res: Resource, path: tuple[str | int, ...], message: str, hint: str | None = None) -> Hit:
        """A finding about a field of ``res``, placed where that field was written: the resource's
        file, or the patch (of its build, or a parent's Flux patch) that set it."""
        where, line = self.provenance.locate(res, path)
        return Hit(where, line, message, hint)

    # -- indexes ------------------------------------------------------------------------------

    @cached_property
    def clusters(self) -> dict[str, ClusterIndex]:
        out: dict[str, ClusterIndex] = defaultdict(ClusterIndex)
        for res in self.flux.objects:
            index = out[res.notes[CLUSTER]]
            index.objects.append(res)
            _index_object(index, res, self.flux.memo, self.config.producers)
        for name, cluster in self.flux.clusters.items():
            for res in self.flux.bootstrap_objects(name):
                # exists before Flux runs
                _index_object(out[name], res, self.flux.memo, self.config.producers)
            if not self.flux.guessed:
                for entry in cluster.entries:
                    self._index_entry_source(out[name], entry.ks)
        return dict(out)

    def _index_entry_source(self, index: ClusterIndex, entry: Resource) -> None:
        """The source an entry point syncs exists on the cluster whether or not the repository applies
        it again: ``flux bootstrap`` applies gotk-sync.yaml itself, flux-operator creates a
        FluxInstance's source. Indexed as written when a document declares it, else as the entry."""
        ref = Kustomization(entry).source_ref
        if ref is None or ref.id in index.sources:
            return
        written = [
            res
            for res in self.of_kinds(self.flux.documents, (FLUX_SOURCE_GROUP, ref.kind))
            if (res.namespace or entry.namespace, res.name) == (ref.namespace, ref.name)
        ]
        written.sort(key=lambda res: res.origin.path != entry.origin.path)  # its own sync file first
        index.sources[ref.id] = written[0] if written else entry

    @cached_property
    def ledger(self) -> Ledger | None:
        """What ``homeops configure`` generated (output → template); None when it never ran.

        Raises LoadError when the ledger file is damaged.
        """
        if not os.path.lexists(os.path.join(self.tree.root, LEDGER_FOLDER)):
            return None  # the common case, answered without importing the configure pipeline
        from ..configure.ledger import load_ledger

        return load_ledger(self.tree.root)

    @property
    def bootstrap(self) -> Bootstrap:
        """What the repository installs before Flux runs (helmfile releases, applied files, objects)."""
        return self.flux.bootstrap

    @cached_property
    def graph(self) -> Graph:
        return build_graph(self.flux)

    def index(self, cluster: str) -> ClusterIndex:
        return self.clusters.get(cluster) or ClusterIndex()

    def producers(self) -> Iterator[Producer]:
        yield from self.flux.producers.values()

    def cluster_producers(self, cluster: str) -> Iterator[Producer]:
        """The Kustomizations that apply to ``cluster`` itself (one with a kubeConfig applies elsewhere),
        in a stable order."""
        return iter(self._cluster_producers.get(cluster, ()))

    @cached_property
    def _cluster_producers(self) -> dict[str, list[Producer]]:
        # Sorted once: rules ask for a cluster's producers once per object they look at.
        out: dict[str, list[Producer]] = {}
        for (name, _ident), producer in sorted(self.flux.producers.items()):
            if not producer.ks.spec.get("kubeConfig"):
                out.setdefault(name, []).append(producer)
        return out

    def vendor_strings(self, cluster: str) -> frozenset[str]:
        """Every string in the values of the vendor charts one cluster releases: a chart may create
        an object (an issuer, a store, a namespace) whose name its values hold, out of homeops' sight."""
        return self.memo(f"vendor-strings:{cluster}", lambda: frozenset(self._vendor_strings(cluster)))

    def _vendor_strings(self, cluster: str) -> Iterator[str]:
        for producer in self.cluster_producers(cluster):
            for res in self.of_kinds(producer.objects, (FLUX_HELM_GROUP, "HelmRelease")):
                values = HelmRelease(res).values
                if not is_app_template_values(values):
                    yield from strings(values)

    def documents_of(self, producer: Producer) -> list[Resource]:
        """What a Kustomization applies; for one whose build fails here, the documents under its path as
        written: what it is meant to create (the build failure is reported on its own)."""
        if producer.error is None or not producer.path:
            return producer.objects
        prefix = "" if producer.path in ("", ".") else producer.path.rstrip("/") + "/"
        return [res for res in self.flux.documents if res.origin.path.startswith(prefix)]

    @cached_property
    def file_reasons(self) -> Mapping[str, list[Reason]]:
        """Why each file is or is not applied (see :mod:`homeops.flux.reasons`), worked out per file
        when first looked up."""
        from ..flux.reasons import FileReasons

        return FileReasons(self.flux)

    @cached_property
    def applied_files(self) -> frozenset[str]:
        return frozenset(path for producer in self.flux.producers.values() for path in producer.files)

    def subjects(self) -> Iterator[Resource]:
        """Every object some cluster applies, as it applies it. Documents nothing applies (patches,
        archived copies, examples) are not subjects: what Flux never applies cannot fail in a cluster.

        A folder with no Flux tree at all (plain manifests, a freshly rendered template) is judged as
        written: there is nothing else to judge, and ``check`` says that nothing Flux-shaped was found.
        """
        return iter(self._subjects)

    @cached_property
    def _subjects(self) -> list[Resource]:
        return self.flux.objects if self.flux.clusters else self.flux.documents

    def helm_releases(self) -> Iterator[tuple[Resource, HelmRelease]]:
        return iter(self._helm_releases)

    @cached_property
    def _helm_releases(self) -> list[tuple[Resource, HelmRelease]]:
        # Several rules ask; the subjects are filtered once.
        return [(res, HelmRelease(res)) for res in self.subjects_of((FLUX_HELM_GROUP, "HelmRelease"))]

    def of_kinds(self, objects: list[Resource], *kinds: tuple[str, str]) -> list[Resource]:
        """The objects of ``objects`` whose (group, kind) is one of ``kinds``, in their order.

        ``objects`` is a list the Flux tree holds (its objects or documents, a producer's objects):
        nothing changes them once the tree is built, so each is indexed by (group, kind) once per check
        rather than scanned, reading every object's group and kind, by each rule that wants a few kinds.
        """
        return self._kind_index(objects).of(kinds)

    def kind_keys(self, objects: list[Resource]) -> list[tuple[str, str]]:
        """The (group, kind) of each of ``objects`` (as for :meth:`of_kinds`), in their order."""
        return self._kind_index(objects).keys

    def _kind_index(self, objects: list[Resource]) -> KindIndex:
        index = self._kinds.get(id(objects))
        if index is None:
            index = self._kinds[id(objects)] = KindIndex(objects)
        return index

    def subjects_of(self, *kinds: tuple[str, str]) -> list[Resource]:
        """The subjects (:meth:`subjects`) of these (group, kind)s, in their order."""
        return self.of_kinds(self._subjects, *kinds)

    def cluster_of(self, res: Resource) -> str:
        return str(res.notes.get(CLUSTER, ""))

    @cached_property
    def kustomization_ids(self) -> dict[str, set[NamedResource]]:
        out: dict[str, set[NamedResource]] = defaultdict(set)
        for cluster, ident in self.flux.producers:
            out[cluster].add(ident)
        return out

    def is_applied(self, res: Resource) -> bool:
        return CLUSTER in res.notes


class KindIndex:
    """A list of objects by (group, kind) (see :meth:`Context.of_kinds`)."""

    __slots__ = ("by_kind", "keys", "objects")

    def __init__(self, objects: list[Resource]) -> None:
        self.objects = objects  # kept: the index is looked up by the list's id
        self.keys = [(res.group, res.kind) for res in objects]
        self.by_kind: dict[tuple[str, str], list[Resource]] = {}
        for key, res in zip(self.keys, objects, strict=True):
            self.by_kind.setdefault(key, []).append(res)

    def of(self, kinds: tuple[tuple[str, str], ...]) -> list[Resource]:
        if len(kinds) == 1:
            return self.by_kind.get(kinds[0], [])
        wanted = set(kinds)
        return [res for key, res in zip(self.keys, self.objects, strict=True) if key in wanted]


def _index_object(
    index: ClusterIndex, res: Resource, memo: ObjectMemo, extra: tuple[ProducerEntry, ...] = ()
) -> None:
    group, kind = res.group, res.kind
    if is_sealed(res):
        index.sealed.append(res)
        return
    tables = {"Secret": index.secrets, "ConfigMap": index.config_maps, "PersistentVolumeClaim": index.claims}
    found = memo_products(memo, res, (group, kind))
    for made in with_extra(found, res, extra) if extra else found:
        if made.prefix:
            index.prefixes.append((made.kind, made.namespace, made.name))
        else:
            namespace = (
                ""
                if made.namespace == "default" and not res.namespace and made.how == "the object itself"
                else made.namespace
            )
            tables[made.kind][(namespace, made.name)].append(res)
    if group == GATEWAY_GROUP and kind == "Gateway":
        index.gateways[(res.namespace, res.name)] = res
    elif group == FLUX_SOURCE_GROUP:
        index.sources[res.id] = res
    elif is_generator(res):
        for spec in artifact_specs(res):
            index.sources[NamedResource("ExternalArtifact", spec.namespace, spec.name)] = res
    elif group == FLUX_HELM_GROUP and kind == "HelmRelease":
        index.helm_releases[res.id] = res


def values_at(data: Any, path: tuple[str | int, ...]) -> Any:
    current = data
    for part in path:
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
        else:
            return None
    return current
