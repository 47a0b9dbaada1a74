"""Render what Flux would apply: every Kustomization's objects and every HelmRelease's chart output.

Input is a :class:`~homeops.render.snapshot.Snapshot` of the Flux tree (every Kustomization already
built, patched and substituted as kustomize-controller does) and access to the repository's files.
Each producer renders on its own and fails on its own: a missing chart or a template error becomes a
:class:`ProducerRender` with ``error`` set, never an exception that stops the others. HelmReleases
render in parallel threads (Helm's Go runtime must not be used after ``fork``); the result is sorted,
so the same tree always renders to the same objects in the same order.

Every object is annotated with the producer it came from (``homeops.dev/producer``) and its cluster
(``homeops.dev/cluster``); the diff ignores ``homeops.dev/*`` annotations.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import HomeopsError
from ..model.base import NamedResource, ObjectRef, Resource, get_path
from ..model.flux import FLUX_HELM_GROUP, SOURCE_KINDS, HelmRelease
from ..model.kinds import Secret, is_sops_encrypted
from ..model.producers import is_sealed, sealed_may_be
from .secrets import Decryptor, placeholder, reveal
from .snapshot import Entry, Key, Snapshot
from .values import ValuesData

if TYPE_CHECKING:
    from ..flux.artifacts import ArtifactSpec
    from ..flux.sources import BuildSource

PRODUCER_ANNOTATION = "homeops.dev/producer"
CLUSTER_ANNOTATION = "homeops.dev/cluster"
DEFAULT_KUBE_VERSION = "1.33.0"
"""What charts see as ``.Capabilities.KubeVersion`` unless told otherwise (``--kube-version``, config)."""

ReleaseKey = tuple[str, NamedResource]
"""(cluster, HelmRelease id)."""

Progress = Callable[[int, int, str], None]
"""Called as producers finish: (done, total, producer)."""


class RepoFiles(Protocol):
    """The files of one revision of the repository."""

    def read_bytes(self, rel: str) -> bytes: ...

    def folder(self) -> Path:
        """The revision on disk (materialised on first use for a Git revision)."""
        ...

    @property
    def config_root(self) -> Path:
        """Where ``.sops.yaml`` is read from (output formatting only)."""
        ...


@dataclass(frozen=True, slots=True)
class FolderFiles:
    """A revision that is a folder on disk."""

    root: Path

    def read_bytes(self, rel: str) -> bytes:
        return (self.root / rel).read_bytes()

    def folder(self) -> Path:
        return self.root

    @property
    def config_root(self) -> Path:
        return self.root


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """Options shared by ``build``, ``diff`` and library callers."""

    offline: bool = False
    """Use only the chart cache; a chart it does not hold fails that HelmRelease."""
    age_key: str | None = None
    """Age identities to decrypt SOPS objects with; None renders placeholders instead."""
    age_key_only: bool = False
    """``age_key`` was named with ``--age-key``: sops may use no other key it would find."""
    show_secrets: bool = False
    """Render with decrypted values; False renders stand-ins for them (see :mod:`.secrets`)."""
    kube_version: str = DEFAULT_KUBE_VERSION
    api_versions: tuple[str, ...] = ()
    """Extra ``.Capabilities.APIVersions`` beyond Kubernetes' own and the cluster's CRDs."""
    workers: int = 0
    """Threads rendering HelmReleases; 0 picks one per CPU (at most 8)."""
    render_cache: bool = True
    """Reuse earlier renders of identical inputs (never for decrypted values, never when they are shown)."""
    chart_cache_dir: Path | None = None


@dataclass(frozen=True, slots=True)
class ProducerRender:
    """What one Flux producer renders to, or why it could not."""

    producer: str
    """``Kustomization/<ns>/<name>`` or ``HelmRelease/<ns>/<name>``."""
    cluster: str
    kind: str
    objects: tuple[dict[str, Any], ...] = ()
    error: str | None = None
    hint: str | None = None
    """What to do about ``error``."""
    skipped: str | None = None
    """Why it was not rendered although nothing failed (its source is another repository)."""
    placeholders: tuple[str, ...] = ()
    """Values that stand in for what could not be read (SOPS without a key): "rendered with placeholders"."""
    release: Any = None
    """For a HelmRelease: its :class:`~homeops.render.release.ReleaseInfo`."""
    cached: bool = False
    warnings: tuple[str, ...] = ()
    """What was rendered although not everything could be checked (a schema reference, a stand-in)."""

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(slots=True)
class _Cluster:
    """One cluster's objects, indexed for lookups while rendering."""

    name: str
    objects: dict[NamedResource, Resource] = field(default_factory=dict)
    """Sources, ArtifactGenerators and CustomResourceDefinitions, by id."""
    configs: dict[tuple[str, str, str], Resource] = field(default_factory=dict)
    releases: dict[NamedResource, Resource] = field(default_factory=dict)
    sealed: list[tuple[str, Resource]] = field(default_factory=list)
    """SOPS documents encrypted whole (kind or name unreadable without the key), with their producer."""
    release_namespaces: dict[str, set[str]] = field(default_factory=dict)
    """The namespaces of the HelmReleases each producer applies."""
    api_versions: tuple[str, ...] = ()
    cluster_scoped: frozenset[tuple[str, str]] = frozenset()


_INDEXED = frozenset(
    {"ConfigMap", "Secret", "HelmRelease", "CustomResourceDefinition", "ArtifactGenerator", *SOURCE_KINDS}
)


def clusters_of(snapshot: Snapshot) -> dict[str, _Cluster]:
    """The snapshot's objects per cluster, indexed (computed once per snapshot)."""
    cached = snapshot.memo.get("clusters")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    out: dict[str, _Cluster] = {}
    for entry in snapshot.entries.values():
        cluster = out.setdefault(entry.cluster, _Cluster(entry.cluster))
        for res in entry.objects:
            kind = res.obj.get("kind")
            if kind not in _INDEXED:
                if isinstance(kind, str) and kind.startswith("ENC[") and is_sealed(res):
                    cluster.sealed.append((str(entry.id), res))
                continue  # only what rendering looks up; indexing every object costs a diff its speed
            if kind in ("ConfigMap", "Secret"):
                if res.group == "":
                    cluster.configs.setdefault((kind, res.namespace, res.name), res)
                    if is_sealed(res):
                        cluster.sealed.append((str(entry.id), res))
            elif kind == "HelmRelease":
                if res.group == FLUX_HELM_GROUP:
                    cluster.releases.setdefault(res.id, res)
                    cluster.release_namespaces.setdefault(str(entry.id), set()).add(res.namespace)
            else:
                cluster.objects.setdefault(res.id, res)
    for name, cluster in out.items():
        info = snapshot.clusters.get(name)
        for res in info.bootstrap if info is not None else ():
            cluster.configs.setdefault((res.kind, res.namespace, res.name), res)
        cluster.api_versions, cluster.cluster_scoped = _crd_capabilities(cluster.objects.values())
    snapshot.memo["clusters"] = out
    return out


def _crd_capabilities(objects: Iterable[Resource]) -> tuple[tuple[str, ...], frozenset[tuple[str, str]]]:
    """API versions (``group/version`` and ``group/version/Kind``) the cluster's CRDs serve, and the
    custom kinds they make cluster-scoped."""
    from .postrender import cluster_scoped_kinds

    versions: set[str] = set()
    crds = [r.obj for r in objects if r.kind == "CustomResourceDefinition"]
    for crd in crds:
        spec = crd.get("spec")
        if not isinstance(spec, dict):
            continue
        group, kind = spec.get("group"), get_path(spec, "names", "kind")
        for version in spec.get("versions") or []:
            if isinstance(version, dict) and version.get("name") and version.get("served", True):
                versions.add(f"{group}/{version['name']}")
                if kind:
                    versions.add(f"{group}/{version['name']}/{kind}")
    return tuple(sorted(versions)), cluster_scoped_kinds(crds)


def releases_of(snapshot: Snapshot) -> dict[ReleaseKey, Resource]:
    """Every HelmRelease the clusters apply (the first, when two Kustomizations apply the same one)."""
    return {(name, rid): res for name, c in clusters_of(snapshot).items() for rid, res in c.releases.items()}


# -- rendering --------------------------------------------------------------------------------------


def render(
    snapshot: Snapshot,
    files: RepoFiles,
    *,
    kustomizations: Iterable[Key] | None = None,
    releases: Iterable[ReleaseKey] | None = None,
    options: RenderOptions | None = None,
    progress: Progress | None = None,
    decryptor: Decryptor | None = None,
) -> list[ProducerRender]:
    """Render the selected producers (None: all of them), sorted by cluster, kind, namespace and name.

    Decrypted values reach the output only with ``options.show_secrets``; otherwise rendering sees
    stand-ins for them. Pass a ``decryptor`` (:func:`decryptor_for`) to learn afterwards which plaintext
    values it decrypted (:meth:`Decryptor.sensitive`), to keep them out of what is shown as well.
    """
    from .cache import RenderCache
    from .charts.cache import ChartCache

    options = options if options is not None else RenderOptions()
    clusters = clusters_of(snapshot)
    ks_keys = list(snapshot.entries) if kustomizations is None else [k for k in kustomizations
                                                                     if k in snapshot.entries]  # fmt: skip
    all_releases = {(n, rid): res for n, c in clusters.items() for rid, res in c.releases.items()}
    hr_keys = list(all_releases) if releases is None else [k for k in releases if k in all_releases]
    decryptor = decryptor if decryptor is not None else decryptor_for(files, options)
    total = len(ks_keys) + len(hr_keys)
    done = 0
    results: list[ProducerRender] = []
    for key in ks_keys:
        results.append(render_kustomization(snapshot.entries[key], decryptor))
        done += 1
        if progress is not None:
            progress(done, total, results[-1].producer)
    if hr_keys:
        charts = ChartCache(options.chart_cache_dir, offline=options.offline)
        # Shown secrets may reach a release through substitution, unmarked: nothing of that run is stored.
        shown = decryptor.enabled and decryptor.show
        render_cache = RenderCache() if options.render_cache and not shown else None
        contexts: dict[str, Any] = {}
        for name in {k[0] for k in hr_keys}:
            contexts[name] = _release_context(snapshot, clusters[name], files, decryptor, charts,
                                              render_cache, options)  # fmt: skip
        workers = options.workers or min(8, os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="homeops-render") as pool:
            futures = [
                pool.submit(render_one_release, cluster, all_releases[(cluster, rid)], contexts[cluster])
                for cluster, rid in hr_keys
            ]
            for future in as_completed(futures):
                results.append(future.result())
                done += 1
                if progress is not None:
                    progress(done, total, results[-1].producer)
    return sorted(results, key=_order)


def decryptor_for(files: RepoFiles, options: RenderOptions) -> Decryptor:
    return Decryptor(
        files.read_bytes,
        files.config_root,
        options.age_key,
        show=options.show_secrets,
        only_this_key=options.age_key_only,
    )


def _order(result: ProducerRender) -> tuple[str, int, str]:
    return (result.cluster, 0 if result.kind == "Kustomization" else 1, result.producer)


def annotate(obj: Mapping[str, Any], producer: str, cluster: str) -> dict[str, Any]:
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    annotations = dict(meta.get("annotations") or {})
    annotations[PRODUCER_ANNOTATION] = producer
    annotations[CLUSTER_ANNOTATION] = cluster
    meta["annotations"] = annotations
    out["metadata"] = meta
    return out


def render_kustomization(entry: Entry, decryptor: Decryptor) -> ProducerRender:
    """A Kustomization's objects as Flux applies them (SOPS objects decrypted or with placeholders)."""
    producer = str(entry.id)
    if entry.external:
        return ProducerRender(producer, entry.cluster, "Kustomization",
                              skipped="its source is not this repository")  # fmt: skip
    if entry.missing_path:
        path = get_path(entry.ks.obj, "spec", "path")
        return ProducerRender(producer, entry.cluster, "Kustomization",
                              error=f"spec.path {path!r} does not exist in the repository")  # fmt: skip
    if entry.error is not None:
        return ProducerRender(producer, entry.cluster, "Kustomization", error=entry.error)
    objects = []
    placeholders: list[str] = []
    for res in entry.objects:
        obj = res.obj
        if is_sops_encrypted(obj):
            revealed = reveal(obj, res.origin, decryptor)
            obj = revealed.obj
            if revealed.problem is not None:
                placeholders.append(f"{res.kind} {res.namespace}/{res.name}: {revealed.problem}")
        objects.append(annotate(obj, producer, entry.cluster))
    return ProducerRender(producer, entry.cluster, "Kustomization", tuple(objects),
                          placeholders=tuple(placeholders))  # fmt: skip


# -- HelmReleases -----------------------------------------------------------------------------------


class _ClusterValues:
    """``valuesFrom`` lookups among a cluster's ConfigMaps and Secrets."""

    def __init__(self, cluster: _Cluster, decryptor: Decryptor) -> None:
        self.cluster = cluster
        self.decryptor = decryptor

    def lookup(self, kind: str, namespace: str, name: str, key: str) -> ValuesData | None:
        res = self.cluster.configs.get((kind, namespace, name))
        if res is None:
            return self._sealed(kind, namespace, name, key)
        obj = res.obj
        decrypted = False
        if is_sops_encrypted(obj):
            revealed = reveal(obj, res.origin, self.decryptor)
            if revealed.problem is not None:
                raw = _raw_value(obj, kind, key)
                if raw is None:
                    return ValuesData(None)
                what = f"{kind} {namespace}/{name} key {key!r}"
                return ValuesData(placeholder(str(raw)), placeholder=f"{what}: {revealed.problem}")
            obj, decrypted = revealed.obj, True
        return self._value(kind, obj, key, decrypted=decrypted, origin=res.origin)

    def _sealed(self, kind: str, namespace: str, name: str, key: str) -> ValuesData | None:
        """The key of a document encrypted whole that is, or may be, the object: kustomize-controller
        decrypts every SOPS document after the build, so it is applied as what it decrypts to. With the
        key, its decrypted identity decides; without, a placeholder where its visible shape allows it
        (:func:`~homeops.model.producers.sealed_may_be`: kind's fields, the key, a readable namespace or,
        when encrypted, a HelmRelease of that namespace in the same Kustomization)."""
        for producer, res in self.cluster.sealed:
            revealed = reveal(res.obj, res.origin, self.decryptor)
            if revealed.problem is None:
                meta = revealed.obj.get("metadata")
                meta = meta if isinstance(meta, dict) else {}
                if (revealed.obj.get("kind"), meta.get("name")) != (kind, name):
                    continue
                if str(meta.get("namespace") or namespace) != namespace:
                    continue
                return self._value(kind, revealed.obj, key, decrypted=True, origin=res.origin)
            if not sealed_may_be(res, kind, namespace, (key,)):
                continue
            if (not res.namespace or res.namespace.startswith("ENC[")) and namespace not in (
                self.cluster.release_namespaces.get(producer, ())
            ):
                continue
            raw = _raw_value(res.obj, kind, key)
            what = f"{kind} {namespace}/{name} key {key!r}"
            where = f"may be {res.origin.path}, SOPS-encrypted whole"
            return ValuesData(placeholder(str(raw)), placeholder=f"{what}: {where}: {revealed.problem}")
        return None

    @staticmethod
    def _value(kind: str, obj: Mapping[str, Any], key: str, *, decrypted: bool, origin: Any) -> ValuesData:
        if kind == "ConfigMap":
            data = obj.get("data")
            value = data.get(key) if isinstance(data, dict) else None
            return ValuesData(None if value is None else str(value), decrypted=decrypted, origin=origin)
        values = Secret(Resource(dict(obj), origin)).values()
        return ValuesData(values.get(key), decrypted=decrypted, origin=origin)


def _raw_value(obj: Mapping[str, Any], kind: str, key: str) -> Any:
    for field_name in ("data", "stringData") if kind == "Secret" else ("data",):
        values = obj.get(field_name)
        if isinstance(values, dict) and key in values:
            return values[key]
    return None


def _release_context(
    snapshot: Snapshot,
    cluster: _Cluster,
    files: RepoFiles,
    decryptor: Decryptor,
    charts: Any,
    render_cache: Any,
    options: RenderOptions,
) -> Any:
    from .helm import HelmOptions
    from .release import ReleaseContext
    from .sources import SourceLookup

    info = snapshot.clusters.get(cluster.name)
    own = info.own_sources if info is not None else frozenset({("GitRepository", "flux-system")})
    helm = HelmOptions(
        kube_version=options.kube_version,
        api_versions=tuple(sorted({*options.api_versions, *cluster.api_versions})),
    )
    return ReleaseContext(
        lookup=SourceLookup(
            cluster.objects, own, files.folder, _artifacts(snapshot, cluster.name, own, files)
        ),
        values=_ClusterValues(cluster, decryptor),
        charts=charts,
        helm=helm,
        custom_cluster_scoped=cluster.cluster_scoped,
        render_cache=render_cache,
        read_file=files.read_bytes,
    )


def _artifacts(
    snapshot: Snapshot, cluster: str, own: frozenset[tuple[str, str]], files: RepoFiles
) -> Callable[[ObjectRef], BuildSource | None]:
    """Resolves an ExternalArtifact to the files source-watcher would put in it, as the Flux tree
    does for Kustomizations (:class:`~homeops.flux.sources.ClusterSources`), from this revision's
    files; the documents are read on first use only (few releases take their chart from one)."""
    import threading

    lock = threading.Lock()  # releases render on a thread pool
    made: list[Any] = []

    def resolve(ref: ObjectRef) -> BuildSource | None:
        from ..flux.sources import ClusterSources
        from ..flux.tree import load_documents
        from ..load.tree import SourceTree

        with lock:
            if not made:
                tree = SourceTree(files.folder())
                sources = ClusterSources(tree, cluster, own, (), load_documents(tree)[0])
                for res in snapshot.objects(cluster):
                    sources.note(res)
                made.append(sources)
            found: BuildSource | None = made[0].resolve(ref)
            return found

    return resolve


def render_one_release(cluster: str, res: Resource, ctx: Any) -> ProducerRender:
    """Render one HelmRelease; any failure becomes the result's ``error``."""
    from .release import render_helm_release

    producer = str(res.id)
    try:
        out = render_helm_release(HelmRelease(res), ctx)
    except HomeopsError as exc:
        message = f"{exc.where}: {exc.message}" if exc.where is not None else exc.message
        return ProducerRender(producer, cluster, "HelmRelease", error=message, hint=exc.hint)
    except Exception as exc:  # a bug must not stop the other releases: report it with this one
        error = f"internal error: {type(exc).__name__}: {exc}"
        hint = "a bug in homeops: please report it"
        return ProducerRender(producer, cluster, "HelmRelease", error=error, hint=hint)
    objects = tuple(annotate(obj, producer, cluster) for obj in out.objects)
    return ProducerRender(producer, cluster, "HelmRelease", objects, placeholders=tuple(out.placeholders),
                          release=out.info, cached=out.cached, warnings=tuple(out.warnings))  # fmt: skip


# -- what a HelmRelease depends on ------------------------------------------------------------------


def release_inputs(snapshot: Snapshot, clusters: Mapping[str, _Cluster], key: ReleaseKey) -> Any:
    """Everything in the tree a HelmRelease's output depends on, comparable between two revisions:
    the HelmRelease, its ``valuesFrom`` objects and its chart source chain."""
    cluster = clusters.get(key[0])
    res = cluster.releases.get(key[1]) if cluster is not None else None
    if cluster is None or res is None:
        return None
    release = HelmRelease(res)
    parts: list[Any] = [res.obj]
    for ref in release.values_from:
        found = cluster.configs.get((ref.kind, release.namespace, ref.name))
        parts.append(found.obj if found is not None else None)
    ref_id = release.chart_ref.id if release.chart_ref is not None else None
    if release.chart_ref is not None and release.chart_ref.kind == "ExternalArtifact":
        generator = _generator_of(cluster.objects, release.chart_ref)
        parts.append(generator[0].obj if generator is not None else None)
        ref_id = None  # its files are compared through local_chart_paths
    if ref_id is None and release.chart is not None and release.chart.source_ref is not None:
        ref_id = release.chart.source_ref.id
    while ref_id is not None:
        source = cluster.objects.get(ref_id)
        parts.append(source.obj if source is not None else None)
        inner = source.obj.get("spec", {}).get("sourceRef") if source is not None else None
        if source is None or source.kind != "HelmChart" or not isinstance(inner, dict):
            break
        ref_id = NamedResource(str(inner.get("kind")), str(inner.get("namespace") or source.namespace),
                               str(inner.get("name")))  # fmt: skip
    parts.append(cluster.api_versions)
    return parts


def local_chart_paths(
    res: Resource, objects: Mapping[NamedResource, Resource] | None = None
) -> tuple[str, ...]:
    """Repository paths a HelmRelease's chart may be read from when its source is this repository: the
    chart folder and the ``valuesFiles``; for an ExternalArtifact, the folders its ArtifactGenerator
    (among the cluster's ``objects``) copies from ("." for the whole repository)."""
    release = HelmRelease(res)
    ref = release.chart_ref
    if ref is not None and ref.kind == "ExternalArtifact":
        generator = _generator_of(objects or {}, ref)
        if generator is None:
            return ()
        return tuple(sorted({_fixed_prefix(op.pattern) for op in generator[1].copies}))
    chart = release.chart
    if chart is None or chart.source_ref is None or chart.source_ref.kind != "GitRepository":
        return ()
    files = get_path(release.spec, "chart", "spec", "valuesFiles")
    extra = tuple(str(f).lstrip("/").removeprefix("./") for f in files) if isinstance(files, list) else ()
    return (chart.chart.lstrip("/").removeprefix("./").rstrip("/"), *extra)


def _generator_of(
    objects: Mapping[NamedResource, Resource], ref: ObjectRef
) -> tuple[Resource, ArtifactSpec] | None:
    """The ArtifactGenerator (and its output) that makes the ExternalArtifact ``ref``."""
    from ..flux.artifacts import artifact_specs, is_generator

    for res in objects.values():
        if is_generator(res):
            for spec in artifact_specs(res):
                if (spec.namespace, spec.name) == (ref.namespace, ref.name):
                    return res, spec
    return None


def _fixed_prefix(pattern: str) -> str:
    """The folder a copy pattern reads below: its path up to the first glob character."""
    parts: list[str] = []
    for part in pattern.split("/"):
        if any(c in part for c in "*?[\\"):
            break
        if part not in ("", "."):
            parts.append(part)
    return "/".join(parts) or "."


def failures(results: Sequence[ProducerRender]) -> list[ProducerRender]:
    return [r for r in results if r.failed]
