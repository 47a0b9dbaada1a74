"""Render one HelmRelease as helm-controller installs it.

The chart is fetched from its source, the values merged (:mod:`.values`), the chart rendered by Helm's
Go SDK (:mod:`.helm`) for the release name and namespace helm-controller would use, CRDs kept or left
out by ``install.crds``, test hooks dropped unless ``test.enable``, then helm-controller's post-renderer
chain (:mod:`.postrender`) and the release namespace filled into namespaced objects.

The chart's ``crds/`` objects carry the release's ``upgrade.crds`` policy in the annotation
``homeops.dev/crds-on-upgrade``: on an upgrade helm-controller skips them (Skip, the default), only
creates missing ones (Create) or replaces them (CreateReplace), and Helm never deletes them. The diff
reads it to say which CRD changes an upgrade will not apply.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import RenderError
from ..fsutil import private_tempdir
from ..load.yamlio import HELM, parse
from ..model.base import get_path
from ..model.flux import HelmRelease
from . import postrender
from .cache import RenderCache, render_key
from .charts.cache import ChartCache
from .helm import HelmOptions
from .sources import ChartSource, SourceLookup, resolve_chart
from .values import ValuesSource, merge_maps, release_values

MAX_RELEASE_NAME = 53
CRDS_ON_UPGRADE_ANNOTATION = "homeops.dev/crds-on-upgrade"


def release_name(release: HelmRelease) -> str:
    """helm-controller's release name: ``releaseName`` or ``[targetNamespace-]name``, and when longer than
    53 characters its first 40, ``-`` and the first 12 hex digits of its SHA-256 (``release.ShortenName``)."""
    name = release.release_name
    if len(name) <= MAX_RELEASE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"{name[: MAX_RELEASE_NAME - 13]}-{digest}"


@dataclass(frozen=True, slots=True)
class ReleaseInfo:
    """The Helm release a HelmRelease makes."""

    name: str
    namespace: str
    storage_namespace: str
    chart: str
    version: str
    chart_digest: str
    source: str


@dataclass(slots=True)
class ReleaseOutput:
    objects: list[dict[str, Any]]
    info: ReleaseInfo
    placeholders: list[str] = field(default_factory=list)
    decrypted: bool = False
    cached: bool = False


@dataclass(frozen=True, slots=True)
class ReleaseContext:
    """What rendering a cluster's HelmReleases shares."""

    lookup: SourceLookup
    values: ValuesSource
    charts: ChartCache
    helm: HelmOptions
    custom_cluster_scoped: frozenset[tuple[str, str]] = frozenset()
    render_cache: RenderCache | None = None


def render_helm_release(release: HelmRelease, ctx: ReleaseContext) -> ReleaseOutput:
    """The objects helm-controller would install for ``release``; raises HomeopsError on failure."""
    name = release_name(release)
    namespace = release.release_namespace
    merged = release_values(release, ctx.values)
    chart = resolve_chart(release, ctx.lookup, ctx.charts)
    defaults = _values_files(chart)
    options = HelmOptions(
        kube_version=ctx.helm.kube_version,
        api_versions=ctx.helm.api_versions,
        include_crds=release.crds_policy("install") != "Skip",
        skip_tests=get_path(release.spec, "test", "enable") is not True,
    )
    info = ReleaseInfo(
        name, namespace, release.storage_namespace, chart.artifact.name, chart.artifact.version,
        chart.artifact.digest, chart.artifact.source,
    )  # fmt: skip
    key = render_key(
        chart=chart.artifact.digest,
        defaults=defaults,
        values=merged.values,
        name=name,
        namespace=namespace,
        options=[options.kube_version, list(options.api_versions), options.include_crds, options.skip_tests],
        release=[release.name, release.namespace],
        crds_on_upgrade=release.crds_policy("upgrade"),
        post_renderers=list(release.post_renderers),
        common_metadata=release.spec.get("commonMetadata"),
        cluster_scoped=sorted(ctx.custom_cluster_scoped),
    )
    cacheable = ctx.render_cache is not None and not merged.decrypted
    if cacheable and ctx.render_cache is not None:
        hit = ctx.render_cache.get(key)
        if hit is not None:
            return ReleaseOutput(hit, info, merged.placeholders, merged.decrypted, cached=True)
    objects = _render(release, chart, defaults, merged.values, name, namespace, options, ctx)
    if cacheable and ctx.render_cache is not None:
        ctx.render_cache.put(key, objects)
    return ReleaseOutput(objects, info, merged.placeholders, merged.decrypted)


def _values_files(chart: ChartSource) -> dict[str, Any] | None:
    """source-controller's ``valuesFiles``: merged in order, they *replace* the chart's ``values.yaml``
    (which takes part only when listed). None when there are none."""
    if not chart.values_files:
        return None
    assert chart.read_values_file is not None
    merged: dict[str, Any] = {}
    for rel in chart.values_files:
        data = chart.read_values_file(rel)
        if data is None and chart.ignore_missing_values_files:
            continue
        if data is None:
            raise RenderError(
                f"valuesFiles entry {rel!r} does not exist", hint="fix the path (relative to the source root)"
            )
        parsed = parse(data, schema=HELM)  # Helm reads values files with sigs.k8s.io/yaml
        if parsed.failure is not None:
            raise RenderError(f"valuesFiles entry {rel!r} is not valid YAML: {parsed.failure.reason}")
        doc = parsed.documents[0] if parsed.documents else None
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise RenderError(f"valuesFiles entry {rel!r} is not a mapping of values")
        merged = merge_maps(merged, doc)
    return merged


def _render(
    release: HelmRelease,
    chart: ChartSource,
    defaults: Mapping[str, Any] | None,
    values: Mapping[str, Any],
    name: str,
    namespace: str,
    options: HelmOptions,
    ctx: ReleaseContext,
) -> list[dict[str, Any]]:
    from .helm import render_release

    if defaults is None:
        rendered = render_release(chart.artifact, release_name=name, namespace=namespace, values=values,
                                  options=options)  # fmt: skip
    else:
        with private_tempdir("homeops-chart-") as tmp:
            folder = _unpack_with_defaults(chart.artifact.path, tmp, defaults)
            rendered = render_release(folder, release_name=name, namespace=namespace, values=values,
                                      options=options)  # fmt: skip
    where = f"HelmRelease {release.namespace}/{release.name}"
    resources = [m.obj for m in rendered.resources]
    hooks = [m.obj for m in rendered.hooks]
    resources = postrender.post_render(resources, release.post_renderers, where=where)
    hooks = postrender.post_render(hooks, release.post_renderers, where=where, lenient=True)
    labels, annotations = postrender.common_metadata(release.spec)
    labels = {**labels, **postrender.origin_labels(release.name, release.namespace)}
    crds = [_with_upgrade_policy(m.obj, release.crds_policy("upgrade")) for m in rendered.crds]
    scoped = ctx.custom_cluster_scoped | postrender.cluster_scoped_kinds(crds + resources)
    out = list(crds)
    for obj in (*resources, *hooks):
        obj = postrender.add_metadata(obj, labels, annotations)
        out.append(postrender.fill_namespace(obj, namespace, scoped))
    return out


def _with_upgrade_policy(crd: Mapping[str, Any], policy: str) -> dict[str, Any]:
    meta = crd.get("metadata")
    meta = dict(meta) if isinstance(meta, dict) else {}
    annotations = meta.get("annotations")
    annotations = dict(annotations) if isinstance(annotations, dict) else {}
    meta["annotations"] = {**annotations, CRDS_ON_UPGRADE_ANNOTATION: policy}
    return {**crd, "metadata": meta}


def _unpack_with_defaults(archive: Path, tmp: Path, defaults: Mapping[str, Any]) -> Path:
    """The chart unpacked into ``tmp`` with its ``values.yaml`` replaced by ``defaults``."""
    try:
        with tarfile.open(fileobj=io.BytesIO(archive.read_bytes()), mode="r:*") as tar:
            tar.extractall(tmp, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise RenderError(f"cannot unpack the chart {archive}: {exc}") from exc
    folders = [p for p in tmp.iterdir() if (p / "Chart.yaml").is_file()]
    if len(folders) != 1:
        raise RenderError(f"the chart archive {archive} does not hold exactly one chart")
    # JSON is YAML: the values keep their types without a YAML writer.
    (folders[0] / "values.yaml").write_text(json.dumps(dict(defaults)))
    return folders[0]
