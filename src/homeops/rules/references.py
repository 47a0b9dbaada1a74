"""Rules for references: every path, source, Secret, ConfigMap, claim and Gateway named must exist."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from ..model.base import ObjectRef, Resource
from ..model.flux import FLUX_HELM_GROUP, HelmRelease
from ..model.kinds import GATEWAY_GROUP, WORKLOAD_KINDS, HTTPRoute, pod_references, pod_spec, pod_spec_path
from ..model.values import (
    app_template_route_parents,
    is_app_template_values,
    release_value_refs,
    resolve_template,
)
from ..records import NamedTuple
from .base import Hit, Severity, rule
from .context import ClusterIndex, Context


@rule(
    id="REF001",
    name="path-missing",
    family="references",
    severity=Severity.ERROR,
    seed="Dependencies declared; Flux Kustomization defines what to apply from a Git path",
    summary="A Flux Kustomization's spec.path does not exist",
    why="Flux fails the Kustomization ('kustomization path not found') and everything that dependsOn it "
    "waits forever. Common after moving or archiving an app folder.",
    bad="spec:\n  path: ./kubernetes/apps/media/old-app/app   # folder was deleted\n",
    good="spec:\n  path: ./kubernetes/apps/media/new-app/app\n",
    fix="Point spec.path at an existing folder, or delete the Kustomization (and its ks.yaml entry).",
)
def path_missing(ctx: Context) -> Iterator[Hit]:
    for producer in ctx.producers():
        if producer.missing_path:
            ks = producer.ks
            yield ctx.hit(
                ks.res,
                ("spec", "path"),
                f"Kustomization {ks.id.short}: spec.path {ks.path!r} does not exist in the repository",
            )


@rule(
    id="REF002",
    name="source-missing",
    family="references",
    severity=Severity.ERROR,
    seed="HelmRelease: chartRef must reference an existing source",
    summary="A sourceRef or chartRef names a source that does not exist",
    why="Without its source a HelmRelease stays Pending ('chart not found') and a Kustomization never "
    "fetches; both block everything that depends on them.",
    bad="chartRef:\n  kind: OCIRepository\n  name: app-templat   # typo\n",
    good="chartRef:\n  kind: OCIRepository\n  name: app-template\n",
    fix="Fix the name/namespace, or add the missing OCIRepository/HelmRepository next to the release.",
)
def source_missing(ctx: Context) -> Iterator[Hit]:
    for producer in ctx.producers():
        ref = producer.ks.source_ref
        if ref is None or not producer.external:
            continue  # built: its source is this repository (or an artifact made from it)
        if ref.id not in ctx.index(producer.cluster).sources:
            yield ctx.hit(
                producer.ks.res,
                ("spec", "sourceRef", "name"),
                f"Kustomization {producer.id.short}: {ref.kind} {ref.namespace}/{ref.name} does not exist",
            )
    for res, release in ctx.helm_releases():
        if not ctx.is_applied(res):
            continue
        sources = ctx.index(ctx.cluster_of(res)).sources
        chart = release.chart
        checks: list[tuple[ObjectRef, tuple[str, ...]]] = []
        if release.chart_ref is not None:
            checks.append((release.chart_ref, ("spec", "chartRef", "name")))
        if chart is not None and chart.source_ref is not None:
            checks.append((chart.source_ref, ("spec", "chart", "spec", "sourceRef", "name")))
        for ref, path in checks:
            if ref.id not in sources:
                yield ctx.hit(
                    res,
                    path,
                    f"HelmRelease {release.name!r}: {ref.kind} {ref.namespace}/{ref.name} does not exist",
                )


# -- files nothing applies -----------------------------------------------------------------------


@rule(
    id="REF003",
    name="not-applied",
    family="references",
    severity=Severity.INFO,
    seed="You need to wire the HelmRelease into the area kustomization.yaml or Flux will skip it",
    summary="Manifests that no Flux Kustomization applies (one note per file or folder)",
    why="kustomize only builds what kustomization.yaml lists and Flux only reaches the paths of its "
    "Kustomizations: a new app folder or ks.yaml that is not listed is silently ignored — no error, the "
    "app just never appears. Archived copies and examples are fine where they are; this note says which "
    "files Flux does not apply and why ('homeops explain FILE' for one file). Set 'unapplied-files: off' "
    "in .homeops.yaml to silence these notes.",
    bad="# kubernetes/apps/media/kustomization.yaml\nresources:\n  - ./plex/ks.yaml\n"
    "# ./jellyfin/ks.yaml exists but is not listed\n",
    good="resources:\n  - ./plex/ks.yaml\n  - ./jellyfin/ks.yaml\n",
    fix="Add the file or folder to the resources of the kustomization.yaml named in the message, point a "
    "Flux Kustomization at it, or delete it if it is no longer used.",
)
def not_applied(ctx: Context) -> Iterator[Hit]:
    if not ctx.config.unapplied_files or not ctx.flux.clusters:
        return  # no Flux tree at all: the summary says that nothing Flux-shaped was found
    from ..flux.reasons import UNLISTED, UNREACHED

    reasons = ctx.file_reasons
    reached = _reached_folders(ctx)
    secrets = {res.origin.path for res in ctx.flux.documents if _plaintext_secret(res)}
    # Kubernetes objects (not kustomize's own configuration files) in files nothing applies.
    manifests = sorted({res.origin.path for res in ctx.flux.documents if res.group != KUSTOMIZE_CONFIG_GROUP})
    # A file some build applies or reads has that for its first reason (flux.reasons): only the others
    # need their reasons worked out, which name every Kustomization concerned.
    used = ctx.applied_files.union(res.origin.path for p in ctx.flux.producers.values() for res in p.objects)
    reported: set[str] = set()
    for path in manifests:
        if path in used:
            continue
        found = reasons.get(path)
        if not found or found[0].status not in (UNLISTED, UNREACHED):
            continue
        reason = found[0]
        if "commented out" in reason.message or "whose build fails" in reason.message:
            continue  # deliberately disabled; or reported by LOAD002
        unit = _unit(path, reached)
        if unit in reported:
            continue
        reported.add(unit)
        where = _representative(unit, ctx) if unit != path else path
        if where != path and reasons.get(where) and reasons[where][0].status in (UNLISTED, UNREACHED):
            reason = reasons[where][0]
        shown = f"{unit}/" if unit != path else path
        held = [p for p in secrets if p == unit or p.startswith(unit + "/")]
        extra = f"; it holds a plaintext Secret ({held[0]}), which is committed all the same" if held else ""
        if reason.status == UNLISTED and reason.place:
            hint = f"add it to {reason.place}, or delete it"
        else:
            hint = "point a Flux Kustomization at it, or delete it ('homeops explain FILE' says why)"
        yield Hit(where, 1, f"{shown} is not applied by Flux: {reason.message}{extra}", hint)


KUSTOMIZE_CONFIG_GROUP = "kustomize.config.k8s.io"


def _reached_folders(ctx: Context) -> set[str]:
    """Folders holding a file some build reads (and their parents)."""
    out: set[str] = {""}
    for path in ctx.applied_files:
        parts = path.split("/")
        for i in range(1, len(parts)):
            out.add("/".join(parts[:i]))
    for cluster in ctx.flux.clusters.values():
        for root in cluster.root_files:
            parts = root.split("/")
            out.update("/".join(parts[:i]) for i in range(1, len(parts)))
    return out


def _unit(path: str, reached: set[str]) -> str:
    """The highest folder above ``path`` that holds nothing Flux reads, or the file itself."""
    parts = path.split("/")
    for i in range(1, len(parts)):
        folder = "/".join(parts[:i])
        if folder not in reached:
            return folder
    return path


def _plaintext_secret(res: Resource) -> bool:
    from .secrets import readable_keys

    return res.kind == "Secret" and res.group == "" and bool(readable_keys(res))


def _representative(folder: str, ctx: Context) -> str:
    """The file a note about a whole folder points at: its app's ks.yaml (or install.yaml), else its
    kustomization.yaml, the shallowest first, else its first YAML file."""
    files = [f for f in ctx.tree.files() if f.startswith(folder + "/")]
    for names in (("ks.yaml", "install.yaml"), ("kustomization.yaml", "kustomization.yml")):
        found = sorted((f.count("/"), f) for f in files if posixpath.basename(f) in names)
        if found:
            return found[0][1]
    yaml_files = [f for f in files if f.endswith((".yaml", ".yml"))]
    return (yaml_files or files or [folder])[0]


# -- Secrets, ConfigMaps, claims ---------------------------------------------------------------


class Reference(NamedTuple):
    res: Resource
    path: tuple[str | int, ...]
    kind: str
    name: str
    namespace: str
    owner: str


def _ns(namespace: str) -> str:
    return namespace or "default"


def references(ctx: Context) -> Iterator[Reference]:
    """Secrets, ConfigMaps and claims that applied workloads and HelmRelease values need."""
    for res in ctx.flux.objects:
        kind = res.kind
        if kind == "HelmRelease" and res.group == FLUX_HELM_GROUP:
            release = HelmRelease(res)
            if not is_app_template_values(release.values):
                continue  # a vendor chart's values mean what that chart makes of them
            namespace = _ns(release.release_namespace)
            for ref, name in ctx.flux.memo(release_value_refs, res):
                if ref.optional:
                    continue
                if name and "${" not in name:
                    yield Reference(
                        res,
                        ("spec", "values", *ref.path),
                        ref.kind,
                        name,
                        namespace,
                        f"HelmRelease {release.name!r}",
                    )
            continue
        pod = pod_spec(res) if kind in WORKLOAD_KINDS else None  # pod_spec's first test, without a call
        if pod is not None:
            yield from _pod_references(res, pod)


def _pod_references(res: Resource, pod: Any) -> Iterator[Reference]:
    base = pod_spec_path(res.kind)
    owner = f"{res.kind} {res.name!r}"
    for ref in pod_references(pod):
        if not ref.optional and ref.kind in ("Secret", "ConfigMap", "PersistentVolumeClaim"):
            yield Reference(res, (*base, *ref.path), ref.kind, ref.name, _ns(res.namespace), owner)


def _missing(ctx: Context, kind: str) -> Iterator[Hit]:
    # Listed once for the three rules that look for missing Secrets, ConfigMaps and claims.
    for ref in ctx.memo("references", lambda: list(references(ctx))):
        if ref.kind != kind or "{{" in ref.name:
            continue
        index = ctx.index(ctx.cluster_of(ref.res))
        if index.produces(kind, ref.namespace, ref.name, reader=ref.res):
            continue
        hit = ctx.hit(
            ref.res,
            ref.path,
            f"{ref.owner} needs {kind} {ref.namespace}/{ref.name}, which nothing in this repository creates "
            "(something made by hand or by an operator homeops does not know is not visible offline)",
            _PRODUCER_HINT[kind],
        )
        yield hit


_PRODUCER_HINT = {
    "Secret": "add an ExternalSecret (target.name) or a SOPS Secret with that name in that namespace; if "
    "something outside the repository creates it, list its kind under producers: in .homeops.yaml",
    "ConfigMap": "add the ConfigMap (or a configMapGenerator) in that namespace; if something outside the "
    "repository creates it, list its kind under producers: in .homeops.yaml",
    "PersistentVolumeClaim": "add the PersistentVolumeClaim, or give the persistence a storageClass",
}


@rule(
    id="REF004",
    name="values-source-missing",
    family="references",
    severity=Severity.ERROR,
    seed="HelmRelease Reconciling → Failed: missing secret, invalid values",
    summary="A HelmRelease valuesFrom names a ConfigMap or Secret that does not exist",
    why="helm-controller refuses to reconcile a release whose valuesFrom source is missing (unless "
    "optional: true); the release never installs or upgrades.",
    bad="valuesFrom:\n  - kind: ConfigMap\n    name: grafana-values   # no such ConfigMap\n",
    good="valuesFrom:\n  - kind: ConfigMap\n    name: grafana-values\n"
    "# with configMapGenerator: [{name: grafana-values, files: [values.yaml]}]\n",
    fix="Create the ConfigMap/Secret in the HelmRelease's namespace (a configMapGenerator is the usual way), "
    "fix the name, or mark the entry optional: true.",
)
def values_source_missing(ctx: Context) -> Iterator[Hit]:
    for res, release in ctx.helm_releases():
        if not ctx.is_applied(res):
            continue
        index = ctx.index(ctx.cluster_of(res))
        namespace = _ns(release.namespace)
        for i, ref in enumerate(release.values_from):
            if ref.optional or ref.kind not in ("ConfigMap", "Secret") or "${" in ref.name:
                continue
            if not index.produces(
                ref.kind, namespace, ref.name, charts=False, keys=(ref.values_key,), reader=res
            ):
                yield ctx.hit(
                    res,
                    ("spec", "valuesFrom", i, "name"),
                    f"HelmRelease {release.name!r} takes values from {ref.kind} {namespace}/{ref.name}, "
                    "which does not exist",
                    "create it in the HelmRelease's namespace or mark the entry optional: true",
                )


@rule(
    id="REF005",
    name="secret-missing",
    family="references",
    severity=Severity.WARNING,
    seed="Pod WaitingSecrets → Failed: secret never Ready",
    summary="A workload or app-template release needs a Secret nothing produces",
    why="A pod that mounts or reads a Secret that does not exist never starts (CreateContainerConfigError); "
    "the HelmRelease may even report Ready while the app is down.",
    bad="envFrom:\n  - secretRef:\n      name: immich-secret   # no ExternalSecret or Secret of this name\n",
    good="# secrets.yaml\nkind: ExternalSecret\nspec:\n  target:\n    name: immich-secret\n",
    fix="Add the ExternalSecret (target.name) or SOPS Secret, or correct the name.",
)
def secret_missing(ctx: Context) -> Iterator[Hit]:
    yield from _missing(ctx, "Secret")


@rule(
    id="REF006",
    name="configmap-missing",
    family="references",
    severity=Severity.WARNING,
    seed="Pod Pending/CrashLoop: missing configuration",
    summary="A workload or app-template release needs a ConfigMap nothing produces",
    why="A pod whose ConfigMap is missing stays in ContainerCreating or fails its config.",
    bad="persistence:\n  config-file:\n    type: configMap\n    name: app-config   # nothing creates it\n",
    good="configMapGenerator:\n  - name: app-config\n    files: [config.yaml]\n",
    fix="Add the ConfigMap or a configMapGenerator with that name (disableNameSuffixHash if referenced by "
    "name from values).",
)
def configmap_missing(ctx: Context) -> Iterator[Hit]:
    yield from _missing(ctx, "ConfigMap")


@rule(
    id="REF007",
    name="claim-missing",
    family="references",
    severity=Severity.WARNING,
    seed="Define storage explicitly: pods stay Pending until a matching claim exists",
    summary="A workload or app-template persistence names a PersistentVolumeClaim nothing creates",
    why="The pod stays Pending waiting for the claim (the seed's 'romm-data' failure).",
    bad="persistence:\n  data:\n    existingClaim: romm-data   # no PVC named romm-data\n",
    good="# pvc.yaml\nkind: PersistentVolumeClaim\nmetadata:\n  name: romm-data\n",
    fix="Add the PersistentVolumeClaim, or drop existingClaim and set a storageClass so the chart creates "
    "one.",
)
def claim_missing(ctx: Context) -> Iterator[Hit]:
    yield from _missing(ctx, "PersistentVolumeClaim")


@rule(
    id="REF008",
    name="gateway-missing",
    family="references",
    severity=Severity.ERROR,
    seed="HTTPRoute: parentRefs must reference an existing Gateway",
    summary="An HTTPRoute (or app-template route) attaches to a Gateway that does not exist",
    why="A route whose parent Gateway does not exist is never accepted: DNS may resolve but every request "
    "fails (the seed's 'HTTPRoute Not Working' scenario).",
    bad="parentRefs:\n  - name: envoy-interal   # typo\n    namespace: network\n",
    good="parentRefs:\n  - name: envoy-internal\n    namespace: network\n",
    fix="Use the name and namespace of a Gateway the cluster defines.",
)
def gateway_missing(ctx: Context) -> Iterator[Hit]:
    for res in ctx.of_kinds(ctx.flux.objects, (GATEWAY_GROUP, "HTTPRoute"), (FLUX_HELM_GROUP, "HelmRelease")):
        index = ctx.index(ctx.cluster_of(res))
        if not index.gateways:
            continue  # gateways come from somewhere homeops cannot see (a chart): nothing to compare
        wanted: list[tuple[tuple[str | int, ...], tuple[str, str], str]] = []
        if res.kind == "HTTPRoute" and res.group == GATEWAY_GROUP:
            for i, parent in enumerate(HTTPRoute(res).parent_refs):
                if parent.kind == "Gateway":
                    key = (_ns(parent.namespace), parent.name)
                    wanted.append(
                        (("spec", "parentRefs", i, "name"), key, f"HTTPRoute {res.name!r} attaches to")
                    )
        elif res.kind == "HelmRelease" and res.group == FLUX_HELM_GROUP:
            release = HelmRelease(res)
            namespace = _ns(release.release_namespace)
            for route_parent in app_template_route_parents(release.values):
                name = resolve_template(route_parent.name, release.release_name, namespace)
                if name and "${" not in name:
                    key = (_ns(route_parent.namespace or namespace), name)
                    path = ("spec", "values", *route_parent.path)
                    wanted.append((path, key, f"HelmRelease {release.name!r} routes through"))
        for path, key, who in wanted:
            if key in _gateways(index) or _chart_may_make(index, key[0]):
                continue
            yield ctx.hit(res, path, f"{who} Gateway {key[0]}/{key[1]}, which does not exist", _known(index))


def _chart_may_make(index: ClusterIndex, namespace: str) -> bool:
    """A vendor chart released in that namespace, and no Gateway written there: the chart may well
    create the Gateway (homeops does not render charts to know)."""
    if any(ns == namespace for ns, _name in _gateways(index)):
        return False
    return any(
        _ns(HelmRelease(res).release_namespace) == namespace
        and not is_app_template_values(HelmRelease(res).values)
        for res in index.helm_releases.values()
    )


def _gateways(index: ClusterIndex) -> set[tuple[str, str]]:
    return {(_ns(ns), name) for ns, name in index.gateways}


def _known(index: ClusterIndex) -> str:
    names = ", ".join(sorted(f"{_ns(ns)}/{name}" for ns, name in index.gateways))
    return f"gateways in this cluster: {names}"
