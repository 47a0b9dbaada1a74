"""What a Flux tree contains, as plain rows: Kustomizations, HelmReleases and the images they run."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from .flux.tree import CLUSTER, FluxTree
from .model.base import Resource
from .model.flux import FLUX_HELM_GROUP, HelmRelease
from .model.kinds import containers, pod_spec, pod_spec_path
from .model.values import ImageRef, Seen, images
from .records import NamedTuple


class FoundImage(NamedTuple):
    """An image some workload or HelmRelease runs."""

    res: Resource
    path: tuple[str | int, ...]
    """Where in the object (for locating the line)."""
    image: ImageRef
    explicit_tag: bool
    """Whether a missing tag matters (see :class:`homeops.model.values.ValueImage`)."""
    owner: str
    """What runs it, for messages: ``HelmRelease 'atuin'``."""


def found_images(resources: Iterable[Resource]) -> Iterator[FoundImage]:
    """Every image of every workload and HelmRelease among ``resources``."""
    seen: Seen = {}  # the releases of several clusters share their bases' values
    for res in resources:
        pod = pod_spec(res)
        if pod is not None:
            base = pod_spec_path(res.kind)
            for field, i, container in containers(pod):
                value = container.get("image")
                if isinstance(value, str) and value and "${" not in value:
                    yield FoundImage(
                        res,
                        (*base, field, i, "image"),
                        ImageRef.parse(value),
                        True,
                        f"{res.kind} {res.name!r}",
                    )
        elif res.kind == "HelmRelease" and res.group == FLUX_HELM_GROUP:
            for found in images(HelmRelease(res).values, seen):
                if "${" not in str(found.image):
                    yield FoundImage(
                        res,
                        ("spec", "values", *found.path),
                        found.image,
                        found.explicit_tag,
                        f"HelmRelease {res.name!r}",
                    )


RUN_BY = "run_by"
"""Note on rendered objects: the HelmRelease that produced them."""


def _image_sources(
    flux: FluxTree, rendered: Mapping[tuple[str, str], Sequence[Mapping[str, Any]]]
) -> Iterator[Resource]:
    for res in flux.objects:
        if res.kind == "HelmRelease" and res.group == FLUX_HELM_GROUP:
            producer = f"HelmRelease/{res.namespace}/{res.name}"
            objects = rendered.get((str(res.notes.get(CLUSTER)), producer))
            if objects is not None:
                notes = {CLUSTER: res.notes.get(CLUSTER), RUN_BY: producer}
                yield from (Resource(dict(obj), res.origin, notes) for obj in objects)
                continue
        yield res


def kustomization_rows(flux: FluxTree) -> list[dict[str, Any]]:
    rows = []
    for (cluster, _ident), producer in sorted(flux.producers.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        ks = producer.ks
        source = ks.source_ref
        if producer.missing_path:
            status = "path missing"
        elif producer.error is not None:
            status = "build failed"
        elif producer.external:
            status = "external source"
        else:
            status = f"{len(producer.objects)} object{'' if len(producer.objects) == 1 else 's'}"
        rows.append(
            {
                "name": ks.name,
                "namespace": ks.namespace,
                "cluster": cluster,
                "path": ks.path,
                "source": f"{source.kind}/{source.name}" if source else None,
                "depends_on": [f"{d.namespace}/{d.name}" for d in ks.depends_on],
                "file": ks.origin.path,
                "line": ks.origin.line,
                "status": status,
            }
        )
    return rows


def unreached_rows(flux: FluxTree, kind: str) -> list[dict[str, Any]]:
    """Flux Kustomizations or HelmReleases written in the repository that no cluster applies, each
    with why (see :mod:`homeops.flux.reasons`)."""
    from .flux.reasons import explain
    from .model.flux import FLUX_KUSTOMIZE_GROUP

    group = FLUX_KUSTOMIZE_GROUP if kind == "Kustomization" else FLUX_HELM_GROUP
    applied = {(r.origin.path, r.origin.index) for r in flux.objects if r.kind == kind and r.group == group}
    entries = {
        (e.ks.origin.path, e.ks.origin.index)
        for c in flux.clusters.values()
        for e in c.entries
        if kind == "Kustomization"
    }
    read = {path for producer in flux.producers.values() for path in producer.files}
    reasons: dict[str, str] = {}
    rows = []
    for res in flux.documents:
        key = (res.origin.path, res.origin.index)
        if res.kind != kind or res.group != group or key in applied or key in entries:
            continue
        if res.origin.path in read:
            continue  # a patch or another input of a build: not an object of its own
        if res.origin.path not in reasons:
            reasons[res.origin.path] = explain(flux, res.origin.path)[0].message
        rows.append(
            {
                "name": res.name,
                "namespace": res.namespace,
                "file": res.origin.path,
                "line": res.origin.line,
                "reason": reasons[res.origin.path],
            }
        )
    return rows


def helm_release_rows(flux: FluxTree) -> list[dict[str, Any]]:
    sources = {
        (str(r.notes.get(CLUSTER)), r.id): r for r in flux.objects if r.group == "source.toolkit.fluxcd.io"
    }
    rows = []
    for res in sorted(
        (r for r in flux.objects if r.kind == "HelmRelease" and r.group == FLUX_HELM_GROUP),
        key=lambda r: (str(r.notes.get(CLUSTER)), r.namespace, r.name),
    ):
        release = HelmRelease(res)
        cluster = str(res.notes.get(CLUSTER))
        chart, version, source = _chart(release, sources, cluster)
        producer = flux.producer_of(res)
        rows.append(
            {
                "name": release.name,
                "namespace": release.namespace,
                "cluster": cluster,
                "chart": chart,
                "version": version,
                "source": source,
                "kustomization": producer.id.short if producer else None,
                "file": res.origin.path,
                "line": res.origin.line,
            }
        )
    return rows


def _chart(
    release: HelmRelease, sources: dict[Any, Resource], cluster: str
) -> tuple[str | None, str | None, str | None]:
    chart = release.chart
    if chart is not None:
        ref = chart.source_ref
        return chart.chart, chart.version, f"{ref.kind}/{ref.name}" if ref else None
    ref = release.chart_ref
    if ref is None:
        return None, None, None
    source = sources.get((cluster, ref.id))
    spec = source.obj.get("spec") if source is not None else None
    if not isinstance(spec, dict):
        return None, None, f"{ref.kind}/{ref.name}"
    url = spec.get("url")
    name = str(url).rstrip("/").rsplit("/", 1)[-1] if url else spec.get("chart")
    ref_spec = spec.get("ref")
    refspec: dict[str, Any] = ref_spec if isinstance(ref_spec, dict) else {}
    version = refspec.get("tag") or refspec.get("semver") or refspec.get("digest") or spec.get("version")
    return (str(name) if name else None), (str(version) if version else None), f"{ref.kind}/{ref.name}"


def image_rows(
    flux: FluxTree, rendered: Mapping[tuple[str, str], Sequence[Mapping[str, Any]]] | None = None
) -> list[dict[str, Any]]:
    """Every image the clusters run, with what runs it.

    Without ``rendered``, HelmReleases contribute the images their values name. With it (cluster,
    ``HelmRelease/<ns>/<name>``) → the objects the chart rendered to, whose workloads are read instead,
    so images a chart brings itself are listed too.
    """
    by_image: dict[tuple[str, str], dict[str, Any]] = {}
    for found in found_images(_image_sources(flux, rendered or {})):
        cluster = str(found.res.notes.get(CLUSTER))
        key = (cluster, str(found.image))
        row = by_image.setdefault(
            key,
            {
                "image": found.image.repository,
                "tag": found.image.tag,
                "digest": found.image.digest,
                "cluster": cluster,
                "used_by": [],
            },
        )
        owner = found.res.notes.get(RUN_BY) or f"{found.res.kind}/{found.res.namespace}/{found.res.name}"
        owner = str(owner).replace("//", "/")
        if owner not in row["used_by"]:
            row["used_by"].append(owner)
    return [by_image[k] for k in sorted(by_image)]
