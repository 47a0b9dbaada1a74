"""Render one HelmRelease as helm-controller installs it.

The chart is fetched from its source, the values merged (:mod:`.values`), the chart rendered by Helm's
Go SDK (:mod:`.helm`) for the release name and namespace helm-controller would use, as an install: CRDs
kept or left out by ``install.crds`` (and labelled with the release's origin labels, as helm-controller
applies them itself), hooks dropped with ``install.disableHooks`` and test hooks unless
``test.enable``, then helm-controller's post-renderer chain (:mod:`.postrender`) over the streams that
``spec.postRenderStrategy`` sends through it, and the release namespace filled into namespaced objects.

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
from collections.abc import Callable, Mapping, Sequence
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
from .charts.archive import bounded_members
from .charts.cache import ChartArtifact, ChartCache
from .charts.schemas import NO_SCHEMAS, ChartSchemas
from .helm import HelmOptions, RenderedChart, coalesced_values, is_hook, render_release
from .origin import schema_error
from .sources import ChartSource, SourceLookup, resolve_chart
from .validation import check_values
from .values import MergedValues, ValuesSource, merge_maps, release_values

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
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReleaseContext:
    """What rendering a cluster's HelmReleases shares."""

    lookup: SourceLookup
    values: ValuesSource
    charts: ChartCache
    helm: HelmOptions
    custom_cluster_scoped: frozenset[tuple[str, str]] = frozenset()
    render_cache: RenderCache | None = None
    read_file: Callable[[str], bytes] | None = None
    """Reads a repository file (to say on which line a value is set)."""


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
    strategy = post_render_strategy(release)
    # helm-controller installs with Helm's schema validation unless install.disableSchemaValidation.
    validated = get_path(release.spec, "install", "disableSchemaValidation") is not True
    schemas = ctx.charts.schemas(chart.artifact) if validated else NO_SCHEMAS
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
        post_render_strategy=strategy,
        disable_hooks=hooks_disabled(release),
        common_metadata=release.spec.get("commonMetadata"),
        cluster_scoped=sorted(ctx.custom_cluster_scoped),
        schemas=schemas.key,
    )
    cacheable = ctx.render_cache is not None and not merged.decrypted
    if cacheable and ctx.render_cache is not None:
        hit = ctx.render_cache.get(key)
        if hit is not None:
            return ReleaseOutput(hit.objects, info, merged.placeholders, merged.decrypted, cached=True,
                                 warnings=hit.warnings)  # fmt: skip
    # Helm would load the schemas' references itself (and cannot be told not to validate): it renders
    # the chart without them, the values validated here instead.
    artifact = ctx.charts.without_schemas(chart.artifact)
    try:
        rendered = _helm(
            artifact, defaults, merged.values, name, namespace, options, coalesce=bool(schemas.roots)
        )
    except RenderError:
        # Helm validates the values before it renders: a schema violation is what it would report.
        if schemas.roots:
            _check(release, schemas, coalesced_values(artifact, merged.values), None, merged, ctx)
        raise
    warnings = _check(release, schemas, rendered.values, rendered.dependencies, merged, ctx)
    objects = _objects(release, rendered, namespace, ctx)
    if cacheable and ctx.render_cache is not None:
        ctx.render_cache.put(key, objects, warnings)
    return ReleaseOutput(objects, info, merged.placeholders, merged.decrypted, warnings=warnings)


def _check(
    release: HelmRelease,
    schemas: ChartSchemas,
    values: Mapping[str, Any] | None,
    enabled: Sequence[str] | None,
    merged: MergedValues,
    ctx: ReleaseContext,
) -> list[str]:
    """Validate the values Helm composed against the chart's schemas; raises on a violation, returns
    what could not be checked."""
    if not schemas.roots or values is None:
        return []
    checked = check_values(schemas, values, enabled)
    if checked.violations:
        raise schema_error(release, checked.violations, merged, ctx.read_file)
    return [*schemas.warnings(), *checked.unchecked]


POST_RENDER_STRATEGIES = ("combined", "separate", "nohooks")


def post_render_strategy(release: HelmRelease) -> str:
    """``spec.postRenderStrategy``: which of the chart's objects the post-renderers see. ``combined``
    (Helm 4's default and helm-controller's): templates and hooks in one stream; ``separate``: each in a
    stream of its own; ``nohooks``: the templates only (Helm 3's way)."""
    value = release.spec.get("postRenderStrategy")
    if value is None or value == "":
        return "combined"
    if value not in POST_RENDER_STRATEGIES:
        raise RenderError(
            f"spec.postRenderStrategy {value!r} is not one of {', '.join(POST_RENDER_STRATEGIES)}",
            hint="the HelmRelease CRD refuses it: fix the value (it is case-sensitive)",
        )
    return str(value)


def hooks_disabled(release: HelmRelease) -> bool:
    """``install.disableHooks``: the release's hooks are never created (homeops renders the install)."""
    return get_path(release.spec, "install", "disableHooks") is True


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


def _helm(
    artifact: ChartArtifact,
    defaults: Mapping[str, Any] | None,
    values: Mapping[str, Any],
    name: str,
    namespace: str,
    options: HelmOptions,
    *,
    coalesce: bool,
) -> RenderedChart:
    if defaults is None:
        return render_release(artifact, release_name=name, namespace=namespace, values=values,
                              options=options, coalesce=coalesce)  # fmt: skip
    with private_tempdir("homeops-chart-") as tmp:
        folder = _unpack_with_defaults(artifact.path, tmp, defaults)
        return render_release(folder, release_name=name, namespace=namespace, values=values,
                              options=options, coalesce=coalesce)  # fmt: skip


def _objects(
    release: HelmRelease, rendered: RenderedChart, namespace: str, ctx: ReleaseContext
) -> list[dict[str, Any]]:
    where = f"HelmRelease {release.namespace}/{release.name}"
    resources = [m.obj for m in rendered.resources]
    hooks = [] if hooks_disabled(release) else [m.obj for m in rendered.hooks]
    strategy = post_render_strategy(release)
    if strategy == "combined":
        # One stream: a patch may target a hook; Helm tells hooks apart again afterwards.
        combined = _post_render(release, [*resources, *hooks], where)
        resources = [obj for obj in combined if not is_hook(obj)]
        hooks = [obj for obj in combined if is_hook(obj)]
    else:
        resources = _post_render(release, resources, where)
        if strategy == "separate":
            hooks = _post_render(release, hooks, where)
    origin = postrender.origin_labels(release.name, release.namespace)
    crds = [
        _with_upgrade_policy(postrender.add_metadata(m.obj, origin), release.crds_policy("upgrade"))
        for m in rendered.crds
    ]
    scoped = ctx.custom_cluster_scoped | postrender.cluster_scoped_kinds(crds + resources)
    return [*crds, *(postrender.fill_namespace(obj, namespace, scoped) for obj in (*resources, *hooks))]


def _post_render(release: HelmRelease, objects: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    """helm-controller's post-renderer chain over one stream: ``postRenderers[].kustomize`` in order,
    then ``commonMetadata``, then its origin labels (which win over common labels of the same key)."""
    if not objects:
        return objects
    objects = postrender.post_render(objects, release.post_renderers, where=where)
    labels, annotations = postrender.common_metadata(release.spec)
    labels = {**labels, **postrender.origin_labels(release.name, release.namespace)}
    return [postrender.add_metadata(obj, labels, annotations) for obj in objects]


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
            tar.extractall(tmp, members=list(bounded_members(tar, str(archive))), filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise RenderError(f"cannot unpack the chart {archive}: {exc}") from exc
    folders = [p for p in tmp.iterdir() if (p / "Chart.yaml").is_file()]
    if len(folders) != 1:
        raise RenderError(f"the chart archive {archive} does not hold exactly one chart")
    # JSON is YAML: the values keep their types without a YAML writer.
    (folders[0] / "values.yaml").write_text(json.dumps(dict(defaults)))
    return folders[0]
