"""Render a Helm chart as helm-controller installs it, through Helm's own Go SDK (helm_python).

Helm's template engine (``engine.Render`` with its dependency processing, values coalescing, schema
validation and ``.Capabilities``) runs in-process via ``libhelm_c``. What ``helm install`` does around
it is done here, exactly as Helm's ``renderResources``/``SortManifests`` do: the chart's
``kubeVersion`` is checked, ``NOTES.txt`` and partials are dropped, hooks are told apart by their
``helm.sh/hook`` annotation (unknown hook types skipped, test hooks dropped unless asked for), objects
are ordered by Helm's install order of kinds then by template path, and ``crds/`` of the enabled charts
come first when wanted.

Helm's Go runtime deadlocks in a forked child: render from threads (calls release the GIL) or from a
``spawn`` process pool, never after ``fork``. A fork after the library was loaded is detected and
refused with a clear error rather than a hang.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import RenderError
from ..load.yamlio import HELM, parse
from .charts.archive import chart_yaml, dependencies, parse_chart_yaml, read_member
from .charts.cache import ChartArtifact
from .charts.errors import ChartSourceError
from .charts.semver import SemverError, Version, parse_constraint, parse_version

HOOK_ANNOTATION = "helm.sh/hook"
HOOK_EVENTS = frozenset(
    {
        "pre-install",
        "post-install",
        "pre-delete",
        "post-delete",
        "pre-upgrade",
        "post-upgrade",
        "pre-rollback",
        "post-rollback",
        "test",
        "test-success",
    }
)
TEST_EVENTS = frozenset({"test", "test-success"})

#: Helm's ``releaseutil.InstallOrder``: the order helm installs (and ``helm template`` prints) kinds.
INSTALL_ORDER: tuple[str, ...] = (
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
)
_KIND_RANK = {kind: i for i, kind in enumerate(INSTALL_ORDER)}
_TEMPLATE_AT = re.compile(r"(?P<path>[^\s():]+\.(?:ya?ml|tpl|txt|json)):(?P<line>\d+)")


@dataclass(frozen=True, slots=True)
class HelmOptions:
    """What ``helm template``/``helm install`` would be told besides the chart and the values."""

    kube_version: str = "1.33.0"
    """``.Capabilities.KubeVersion``, and what the chart's ``kubeVersion`` constraint is checked against."""
    api_versions: tuple[str, ...] = ()
    """Extra ``.Capabilities.APIVersions`` (``group/version`` or ``group/version/Kind``)."""
    include_crds: bool = True
    """Include the objects of ``crds/`` (Flux ``install.crds`` Create/CreateReplace; False for Skip)."""
    skip_tests: bool = True
    """Leave out ``helm.sh/hook: test`` objects (helm-controller runs them only when tests are enabled)."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """One rendered object and the chart file it came from."""

    source: str
    """Path inside the chart, prefixed by the chart name (``app/templates/deployment.yaml``)."""
    obj: dict[str, Any]
    hook: tuple[str, ...] = ()
    """The hook events (``pre-install``…) when the object is a hook, else empty."""


@dataclass(frozen=True, slots=True)
class RenderedChart:
    """A release's objects in the order helm-controller creates them."""

    chart: str
    version: str
    crds: tuple[Manifest, ...]
    resources: tuple[Manifest, ...]
    hooks: tuple[Manifest, ...]
    notes: str
    """The rendered top-level ``NOTES.txt`` (never an object)."""
    values: Mapping[str, Any] | None = None
    """With ``coalesce``: the values as Helm composed them (chart defaults, the release's values on top,
    the subcharts' under their names), which is what Helm validates against the chart's schemas."""
    dependencies: tuple[str, ...] = ()
    """With ``coalesce``: the subcharts Helm kept (by the name their values go by)."""

    def objects(self) -> list[dict[str, Any]]:
        return [m.obj for m in (*self.crds, *self.resources, *self.hooks)]


class HelmTemplateError(RenderError):
    """A chart template failed to execute; ``template``/``line`` locate it inside the chart."""

    def __init__(self, message: str, *, template: str, line: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.template = template
        self.line = line


def render_chart(
    chart: ChartArtifact | Path,
    *,
    release_name: str,
    namespace: str,
    values: Mapping[str, Any],
    options: HelmOptions,
) -> list[dict[str, Any]]:
    """The objects ``helm template`` would print for this release: CRDs, resources, then hooks."""
    return render_release(
        chart, release_name=release_name, namespace=namespace, values=values, options=options
    ).objects()


def render_release(
    chart: ChartArtifact | Path,
    *,
    release_name: str,
    namespace: str,
    values: Mapping[str, Any],
    options: HelmOptions,
    coalesce: bool = False,
) -> RenderedChart:
    """Render ``chart`` (a cached artifact, a ``.tgz`` or a chart folder) with final ``values``;
    ``coalesce`` also returns the values and subcharts Helm composed (for schema validation)."""
    sdk = _sdk()
    meta, label = _metadata(chart)
    _check_kube_version(meta, label, options.kube_version)
    try:
        values_json = json.dumps(dict(values))
    except (TypeError, ValueError) as exc:
        raise RenderError(f"values for chart {label} are not plain data: {exc}") from exc
    try:
        sdk.validate_release_name(release_name)
    except sdk.HelmError as exc:
        raise RenderError(
            f"invalid release name {release_name!r}: {exc.detail}",
            hint="Helm release names are at most 53 lowercase letters, digits and '-'",
        ) from exc
    handle = _load(sdk, chart, label)
    try:
        _check_dependencies(meta, handle, label)
        render_options = {
            "name": release_name,
            "namespace": namespace,
            "kube_version": options.kube_version,
            "api_versions": list(options.api_versions),
            "is_install": True,
        }
        try:
            # Chart.render does not expose kube_version/api_versions; the C ABI behind it does.
            raw = sdk._native.call_string(
                "helm_render", handle._raw(), values_json, json.dumps(render_options)
            )
        except sdk.HelmError as exc:
            raise _render_error(sdk, exc, label) from exc
        rendered: dict[str, str] = json.loads(raw)
        # Rendering dropped the subcharts disabled by conditions/tags, so these are the enabled ones.
        crds = _crds(handle.crds, label) if options.include_crds else ()
        composed = handle.merge_values(dict(values)) if coalesce else None
        kept = tuple(str(d.get("name")) for d in handle.dependencies) if coalesce else ()
    finally:
        handle.close()
    resources, hooks, notes = _sort(rendered, str(meta["name"]), label, skip_tests=options.skip_tests)
    return RenderedChart(
        str(meta["name"]), str(meta["version"]), crds, resources, hooks, notes, composed, kept
    )


def coalesced_values(chart: ChartArtifact | Path, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values Helm composes for ``chart`` before it processes conditions (every subchart kept)."""
    sdk = _sdk()
    _, label = _metadata(chart)
    handle = _load(sdk, chart, label)
    try:
        composed: dict[str, Any] = handle.merge_values(dict(values))
        return composed
    except sdk.HelmError as exc:
        raise RenderError(f"values for chart {label} cannot be composed: {exc.detail}") from exc
    finally:
        handle.close()


def chart_default_values(chart: ChartArtifact | Path) -> dict[str, Any]:
    """The chart's own ``values.yaml`` (subchart defaults are merged in only at render time)."""
    sdk = _sdk()
    _, label = _metadata(chart)
    handle = _load(sdk, chart, label)
    try:
        values: dict[str, Any] = handle.values
        return values
    finally:
        handle.close()


def chart_file(chart: ChartArtifact | Path, relpath: str) -> bytes | None:
    """The bytes of a file inside the chart (``values-prod.yaml`` for HelmChart ``valuesFiles``)."""
    path = chart.path if isinstance(chart, ChartArtifact) else Path(chart)
    try:
        if path.is_dir():
            target = (path / relpath).resolve()
            if not target.is_relative_to(path.resolve()) or not target.is_file():
                return None
            return target.read_bytes()
        return read_member(path.read_bytes(), relpath.removeprefix("./"))
    except OSError as exc:
        raise RenderError(f"cannot read {relpath} from the chart {path}: {exc.strerror or exc}") from exc
    except ChartSourceError as exc:
        raise RenderError(exc.message) from exc


# --- loading ----------------------------------------------------------------------------------

_forked_after_load = False


def _note_fork() -> None:
    global _forked_after_load
    if "helm_python._native" in sys.modules:
        _forked_after_load = True


os.register_at_fork(after_in_child=_note_fork)


def _sdk() -> Any:
    if _forked_after_load:
        raise RenderError(
            "Helm's Go library was loaded before this process was forked; it would hang here",
            hint="render charts in threads or in a 'spawn' process pool, not in forked workers",
        )
    import helm_python

    return helm_python


def _metadata(chart: ChartArtifact | Path) -> tuple[dict[str, Any], str]:
    path = chart.path if isinstance(chart, ChartArtifact) else Path(chart)
    try:
        if path.is_dir():
            meta = parse_chart_yaml((path / "Chart.yaml").read_bytes(), source=str(path))
        else:
            stat = path.stat()
            meta = _archive_metadata(str(path), stat.st_size, stat.st_mtime_ns)
    except OSError as exc:
        raise RenderError(f"cannot read the chart {path}: {exc.strerror or exc}") from exc
    except ChartSourceError as exc:
        raise RenderError(exc.message, hint=exc.hint) from exc
    return meta, f"{meta['name']} {meta['version']}"


@functools.lru_cache(maxsize=256)
def _archive_metadata(path: str, size: int, mtime_ns: int) -> dict[str, Any]:
    # Keyed by size and mtime too, so a rewritten archive is read again.
    return chart_yaml(Path(path).read_bytes(), source=path)


def _load(sdk: Any, chart: ChartArtifact | Path, label: str) -> Any:
    path = chart.path if isinstance(chart, ChartArtifact) else Path(chart)
    try:
        # A fresh handle per render: Helm's dependency processing mutates the loaded chart.
        return sdk.Chart.load(path)
    except sdk.HelmError as exc:
        raise RenderError(f"cannot load chart {label}: {exc.detail}") from exc


def _check_kube_version(meta: Mapping[str, Any], label: str, kube_version: str) -> None:
    wanted = meta.get("kubeVersion")
    if not wanted:
        return
    try:
        version = parse_version(kube_version)
        # Helm checks the version without pre-release or build parts (v1.31.0-rc.1 counts as v1.31.0).
        allowed = parse_constraint(str(wanted)).allows(Version(version.major, version.minor, version.patch))
    except SemverError as exc:
        raise RenderError(f"chart {label}: {exc}") from exc
    if not allowed:
        raise RenderError(
            f"chart {label} requires kubeVersion {wanted}, which is incompatible with Kubernetes "
            f"v{kube_version.lstrip('v')}",
            hint="render for the cluster's Kubernetes version, or pick a chart version that supports it",
        )


def _check_dependencies(meta: Mapping[str, Any], handle: Any, label: str) -> None:
    loaded = {str(d.get("name")) for d in handle.dependencies}
    missing = [d.name for d in dependencies(dict(meta)) if d.name not in loaded]
    if missing:
        raise RenderError(
            f"chart {label}: dependencies found in Chart.yaml but missing in charts/: {', '.join(missing)}",
            hint="vendor them (helm dependency build) or fetch the chart through its source",
        )


def _render_error(sdk: Any, exc: Any, label: str) -> RenderError:
    detail = str(exc.detail).strip()
    if isinstance(exc, sdk.HelmValuesError):
        # Releases render from charts without their schemas (homeops validates them itself): this is a
        # chart given here with its schema inside, or Helm's own composition of the values failing.
        if "schema" in detail:
            return RenderError(f"values for chart {label} do not match its values.schema.json: {detail}")
        return RenderError(f"Helm refused the values for chart {label}: {detail}")
    match = _TEMPLATE_AT.search(detail)
    if match is not None:
        if match.start() == 0:  # "path:line:col\n  executing ...": the location is said once, up front
            detail = detail[match.end() :].lstrip(":0123456789")
        reason = " ".join(detail.split())
        return HelmTemplateError(
            f"chart {label}: template {match['path']} line {match['line']} failed: {reason}",
            template=match["path"],
            line=int(match["line"]),
        )
    return RenderError(f"chart {label} could not be rendered: {detail}")


# --- post-processing, as Helm's renderResources/SortManifests ---------------------------------


def _sort(
    rendered: Mapping[str, str], chart_name: str, label: str, *, skip_tests: bool
) -> tuple[tuple[Manifest, ...], tuple[Manifest, ...], str]:
    notes = ""
    resources: list[Manifest] = []
    hooks: list[Manifest] = []
    for path in sorted(rendered):
        content = rendered[path]
        if path.endswith("NOTES.txt"):
            if path == f"{chart_name}/templates/NOTES.txt":
                notes = content
            continue
        if PurePosixPath(path).name.startswith("_") or not content.strip():
            continue
        for obj in _documents(content, path, label):
            events = _hook_events(obj)
            if events is None:
                resources.append(Manifest(path, obj))
            elif events and not (skip_tests and TEST_EVENTS.intersection(events)):
                hooks.append(Manifest(path, obj, events))
    return _by_kind(resources), _by_kind(hooks), notes


def _documents(content: str, path: str, label: str) -> list[dict[str, Any]]:
    parsed = parse(content, schema=HELM)  # Helm's kube client reads manifests with sigs.k8s.io/yaml
    if parsed.failure is not None:
        raise HelmTemplateError(
            f"chart {label}: template {path} produced invalid YAML "
            f"(line {parsed.failure.line} of its output: {parsed.failure.reason})",
            template=path,
            line=0,
        )
    docs: list[dict[str, Any]] = []
    for doc in parsed.documents:
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise HelmTemplateError(
                f"chart {label}: template {path} produced a document that is not an object",
                template=path,
                line=0,
            )
        docs.append(doc)
    return docs


def is_hook(obj: Mapping[str, Any]) -> bool:
    """Whether Helm treats ``obj`` as a hook (it carries a ``helm.sh/hook`` annotation)."""
    return _hook_events(obj) is not None


def _hook_events(obj: Mapping[str, Any]) -> tuple[str, ...] | None:
    """None for a plain object; the events for a hook; empty for an unknown hook type (Helm skips it)."""
    metadata = obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if not isinstance(annotations, dict) or HOOK_ANNOTATION not in annotations:
        return None
    events = tuple(e.strip().lower() for e in str(annotations[HOOK_ANNOTATION]).split(","))
    return events if all(e in HOOK_EVENTS for e in events) else ()


def _by_kind(manifests: list[Manifest]) -> tuple[Manifest, ...]:
    def key(m: Manifest) -> tuple[int, int, str]:
        kind = str(m.obj.get("kind", ""))
        rank = _KIND_RANK.get(kind)
        return (0, rank, "") if rank is not None else (1, 0, kind)

    return tuple(sorted(manifests, key=key))  # stable: template path, then document order


def _crds(crd_files: list[dict[str, str]], label: str) -> tuple[Manifest, ...]:
    out: list[Manifest] = []
    for entry in crd_files:
        source = str(entry.get("filename") or entry.get("name") or "crds")
        out.extend(Manifest(source, obj) for obj in _documents(str(entry.get("data", "")), source, label))
    return tuple(out)
