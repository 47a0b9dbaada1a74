"""The Kubernetes and Flux objects homeops writes, as plain mappings in the order a person writes them.

Builders only; where a file goes and how it is laid out is the job of :mod:`homeops.scaffold.app`
(one app) and :mod:`homeops.scaffold.layouts` (a whole repository).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .catalog import Chart, HelmRepo
from .model import ChartSource, EntryStyle, Ref, SubstituteFrom
from .yamltext import Alias, Anchored

FLUX_KS = "kustomize.toolkit.fluxcd.io/v1"
FLUX_HR = "helm.toolkit.fluxcd.io/v2"
FLUX_SOURCE = "source.toolkit.fluxcd.io/v1"
KUSTOMIZE = "kustomize.config.k8s.io/v1beta1"
KUSTOMIZE_COMPONENT = "kustomize.config.k8s.io/v1alpha1"
ESO = "external-secrets.io/v1"
CNPG = "postgresql.cnpg.io/v1"
HELM_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"

#: Install and upgrade retries (rule REC001), for releases no parent patch gives them to.
RETRIES: dict[str, Any] = {
    "install": {"remediation": {"retries": 3}},
    "upgrade": {"cleanupOnFail": True, "remediation": {"retries": 3}},
}


def ordered(spec: Mapping[str, Any], sort: bool) -> dict[str, Any]:
    return {k: spec[k] for k in sorted(spec)} if sort else dict(spec)


def kustomization(
    resources: Sequence[str],
    *,
    namespace: str | None = None,
    components: Sequence[str] = (),
    patches: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    doc: dict[str, Any] = {"apiVersion": KUSTOMIZE, "kind": "Kustomization"}
    if namespace:
        doc["namespace"] = namespace
    if components:
        doc["components"] = list(components)
    doc["resources"] = list(resources)
    if patches:
        doc["patches"] = [dict(p) for p in patches]
    return doc


def component(resources: Sequence[str]) -> dict[str, Any]:
    return {"apiVersion": KUSTOMIZE_COMPONENT, "kind": "Component", "resources": list(resources)}


def namespace(
    name: str, *, annotations: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if annotations:
        meta["annotations"] = dict(annotations)
    if labels:
        meta["labels"] = dict(labels)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def flux_kustomization(
    style: EntryStyle,
    *,
    name: str,
    path: str,
    namespace: str | None = None,
    target_namespace: str | None = None,
    depends_on: Sequence[Ref] = (),
    wait: bool | None = None,
    app_var: str | None = None,
    substitute_from: Sequence[SubstituteFrom] | None = None,
    anchors: bool = False,
) -> dict[str, Any]:
    """A Flux Kustomization in ``style``; ``substitute_from`` None means the style's own list."""
    meta: dict[str, Any] = {"name": Anchored("app", name) if anchors else name}
    if namespace:
        meta["namespace"] = namespace
    source: dict[str, Any] = {"kind": style.source_kind, "name": style.source_name}
    if style.source_namespace:
        source["namespace"] = style.source_namespace
    spec: dict[str, Any] = {"interval": style.interval, "path": f"./{path}", "prune": True}
    if wait is not None:
        spec["wait"] = wait
    spec["sourceRef"] = source
    if target_namespace:
        spec["targetNamespace"] = target_namespace
    if depends_on:
        spec["dependsOn"] = [{"name": ref.name, "namespace": ref.namespace} for ref in depends_on]
    post_build: dict[str, Any] = {}
    if app_var:
        post_build["substitute"] = {"APP": Alias("app") if anchors else app_var}
    sources = style.substitute_from if substitute_from is None else substitute_from
    if sources:
        post_build["substituteFrom"] = [_substitute_from(s) for s in sources]
    if post_build:
        spec["postBuild"] = post_build
    return {
        "apiVersion": FLUX_KS,
        "kind": "Kustomization",
        "metadata": meta,
        "spec": ordered(spec, style.sorted_keys),
    }


def _substitute_from(entry: SubstituteFrom) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": entry.kind, "name": entry.name}
    if entry.optional:
        out["optional"] = True
    return out


def helm_repository(repo: HelmRepo, *, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": repo.name}
    if namespace:
        meta["namespace"] = namespace
    spec: dict[str, Any] = {"interval": "2h", "url": repo.url}
    if repo.oci:
        spec["type"] = "oci"
    return {"apiVersion": FLUX_SOURCE, "kind": "HelmRepository", "metadata": meta, "spec": spec}


def oci_repository(name: str, chart: ChartSource, *, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    spec: dict[str, Any] = {"interval": chart.interval}
    if chart.layer_selector:
        spec["layerSelector"] = {"mediaType": HELM_LAYER, "operation": "copy"}
    spec["ref"] = {"tag": chart.tag}
    spec["url"] = chart.url
    return {"apiVersion": FLUX_SOURCE, "kind": "OCIRepository", "metadata": meta, "spec": spec}


def vendor_release(
    name: str,
    chart: Chart,
    values: Mapping[str, Any],
    *,
    source_namespace: str | None,
    retries: bool,
    interval: str = "1h",
) -> dict[str, Any]:
    """A HelmRelease of a vendor chart from a HelmRepository."""
    source: dict[str, Any] = {"kind": "HelmRepository", "name": chart.repo.name}
    if source_namespace:
        source["namespace"] = source_namespace
    spec: dict[str, Any] = {
        "interval": interval,
        "chart": {"spec": {"chart": chart.name, "version": chart.version, "sourceRef": source}},
    }
    if retries:
        spec.update(RETRIES)
    spec["values"] = dict(values)
    return {"apiVersion": FLUX_HR, "kind": "HelmRelease", "metadata": {"name": name}, "spec": spec}


def external_secret(
    name: str, *, store: str, target: str, item: str, refresh: str | None = None
) -> dict[str, Any]:
    """An ExternalSecret taking every field of one vault item."""
    spec: dict[str, Any] = {}
    if refresh:
        spec["refreshInterval"] = refresh
    spec["secretStoreRef"] = {"kind": "ClusterSecretStore", "name": store}
    spec["target"] = {"name": target}
    spec["dataFrom"] = [{"extract": {"key": item}}]
    return {"apiVersion": ESO, "kind": "ExternalSecret", "metadata": {"name": name}, "spec": spec}


def claim(name: str, *, storage_class: str, size: str = "1Gi") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": size}},
            "storageClassName": storage_class,
        },
    }


def postgres_cluster(name: str, *, storage_class: str | None, size: str = "5Gi") -> dict[str, Any]:
    """A CloudNativePG cluster with the operator's defaults: database ``app``, secret ``<name>-app``."""
    storage: dict[str, Any] = {"size": size}
    if storage_class:
        storage["storageClass"] = storage_class
    return {
        "apiVersion": CNPG,
        "kind": "Cluster",
        "metadata": {"name": name},
        "spec": {"instances": 1, "storage": storage},
    }
