"""Typed views of the non-Flux kinds homeops reasons about, and the kind dispatch.

Dispatch is on (API group, kind), never the exact version, so ``v1beta1`` and ``v1`` objects read the
same. Anything not listed is kept as a :class:`GenericObject`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..records import NamedTuple
from .base import Resource, View, get_path
from .flux import (
    FLUX_HELM_GROUP,
    FLUX_KUSTOMIZE_GROUP,
    FLUX_SOURCE_GROUP,
    Bucket,
    GitRepository,
    HelmChart,
    HelmRelease,
    HelmRepository,
    Kustomization,
    OCIRepository,
    _list,
    _map,
    _str,
)

ESO_GROUP = "external-secrets.io"
CNPG_GROUP = "postgresql.cnpg.io"
GATEWAY_GROUP = "gateway.networking.k8s.io"
CERT_MANAGER_GROUP = "cert-manager.io"


class K8sObject(View):
    """A typed view of a non-Flux kind."""

    __slots__ = ()


class GenericObject(K8sObject):
    """Any kind homeops does not model specially."""

    __slots__ = ()


class Namespace(K8sObject):
    __slots__ = ()


def is_sops_encrypted(obj: Mapping[str, Any]) -> bool:
    """SOPS is detected by content: a ``sops`` map that holds a ``mac``."""
    meta = obj.get("sops")
    return isinstance(meta, dict) and "mac" in meta


class Secret(K8sObject):
    __slots__ = ()

    @property
    def encrypted(self) -> bool:
        return is_sops_encrypted(self.res.obj)

    @property
    def keys(self) -> frozenset[str]:
        data = _map(self.res.obj.get("data"))
        string_data = _map(self.res.obj.get("stringData"))
        return frozenset(str(k) for k in (*data, *string_data))

    @property
    def type(self) -> str:
        return _str(self.res.obj.get("type")) or "Opaque"

    def values(self) -> dict[str, str]:
        """Readable values (``stringData`` as is, ``data`` base64-decoded); empty when encrypted."""
        import base64
        import binascii

        if self.encrypted:
            return {}
        out: dict[str, str] = {}
        for key, value in _map(self.res.obj.get("data")).items():
            try:
                out[str(key)] = base64.b64decode(str(value), validate=False).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                out[str(key)] = ""
        for key, value in _map(self.res.obj.get("stringData")).items():
            out[str(key)] = "" if value is None else str(value)
        return out


class ConfigMap(K8sObject):
    __slots__ = ()

    @property
    def data(self) -> dict[str, str]:
        return {str(k): "" if v is None else str(v) for k, v in _map(self.res.obj.get("data")).items()}

    @property
    def encrypted(self) -> bool:
        return is_sops_encrypted(self.res.obj)


class PersistentVolumeClaim(K8sObject):
    __slots__ = ()

    @property
    def storage_class(self) -> str | None:
        return _str(self.spec.get("storageClassName"))


class ExternalSecret(K8sObject):
    """An external-secrets.io ``ExternalSecret``: produces the Secret ``target.name``."""

    __slots__ = ()

    @property
    def target_name(self) -> str:
        return _str(get_path(self.spec, "target", "name")) or self.name

    @property
    def store_ref(self) -> tuple[str, str] | None:
        ref = _map(self.spec.get("secretStoreRef"))
        name = _str(ref.get("name"))
        return (_str(ref.get("kind")) or "SecretStore", name) if name else None

    @property
    def items(self) -> tuple[str, ...]:
        """Vault items (1Password entries) this ExternalSecret reads."""
        keys: list[str] = []
        for item in _list(self.spec.get("dataFrom")):
            key = _str(get_path(item, "extract", "key")) or _str(get_path(item, "find", "name", "regexp"))
            if key:
                keys.append(key)
        for item in _list(self.spec.get("data")):
            key = _str(get_path(item, "remoteRef", "key"))
            if key:
                keys.append(key)
        return tuple(dict.fromkeys(keys))


class SecretStore(K8sObject):
    """``SecretStore`` or ``ClusterSecretStore``."""

    __slots__ = ()

    @property
    def provider(self) -> str | None:
        provider = _map(self.spec.get("provider"))
        return next(iter(provider), None)


class Certificate(K8sObject):
    """A cert-manager ``Certificate``: produces the TLS Secret ``secretName``."""

    __slots__ = ()

    @property
    def secret_name(self) -> str | None:
        return _str(self.spec.get("secretName"))

    @property
    def issuer(self) -> tuple[str, str] | None:
        ref = _map(self.spec.get("issuerRef"))
        name = _str(ref.get("name"))
        return (_str(ref.get("kind")) or "Issuer", name) if name else None


class PostgresCluster(K8sObject):
    """A CloudNativePG ``Cluster``: produces ``<name>-app`` and ``<name>-superuser`` Secrets."""

    __slots__ = ()

    @property
    def produced_secrets(self) -> tuple[str, ...]:
        # bootstrap.initdb.secret is supplied by the user (consumed_secrets), never produced.
        return (f"{self.name}-app", f"{self.name}-superuser", f"{self.name}-ca", f"{self.name}-replication")

    @property
    def consumed_secrets(self) -> tuple[str, ...]:
        names = []
        for path in (
            ("bootstrap", "initdb", "secret", "name"),
            ("superuserSecret", "name"),
        ):
            value = _str(get_path(self.spec, *path))
            if value:
                names.append(value)
        return tuple(names)


class Gateway(K8sObject):
    __slots__ = ()

    @property
    def listener_names(self) -> frozenset[str]:
        return frozenset(
            str(item.get("name")) for item in _list(self.spec.get("listeners")) if isinstance(item, dict)
        )


class ParentRef(NamedTuple):
    name: str
    namespace: str
    section: str | None
    kind: str


def parent_refs(items: Any, namespace: str) -> tuple[ParentRef, ...]:
    out = []
    for item in _list(items):
        if isinstance(item, dict) and _str(item.get("name")):
            out.append(
                ParentRef(
                    str(_str(item.get("name"))),
                    _str(item.get("namespace")) or namespace,
                    _str(item.get("sectionName")),
                    _str(item.get("kind")) or "Gateway",
                )
            )
    return tuple(out)


class HTTPRoute(K8sObject):
    __slots__ = ()

    @property
    def parent_refs(self) -> tuple[ParentRef, ...]:
        return parent_refs(self.spec.get("parentRefs"), self.namespace)

    @property
    def hostnames(self) -> tuple[str, ...]:
        return tuple(h for h in _list(self.spec.get("hostnames")) if isinstance(h, str))


#: Kinds that have no namespace (kustomize stamps one on CRD kinds it does not know; the API ignores it).
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "StorageClass",
        "CSIDriver",
        "CSINode",
        "VolumeSnapshotClass",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PriorityClass",
        "RuntimeClass",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "APIService",
        "IngressClass",
        "ClusterSecretStore",
        "ClusterExternalSecret",
        "ClusterIssuer",
        "GatewayClass",
        "ClusterPolicy",
        "ClusterImagePolicy",
        "ClusterSecretStoreRef",
    }
)


def identity_namespace(kind: str, namespace: str) -> str:
    """The namespace that identifies an object: empty for cluster-scoped kinds."""
    return "" if kind in CLUSTER_SCOPED_KINDS else namespace


#: API groups all of whose kinds are namespaced (Kubernetes' own, Flux's, flux-operator's).
_NAMESPACED_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "fluxcd.controlplane.io",
        "source.extensions.fluxcd.io",
    }
)

#: Namespaced kinds of the common homelab operators, by group (their other kinds may be cluster-scoped).
_NAMESPACED_KINDS = {
    CERT_MANAGER_GROUP: frozenset({"Certificate", "Issuer", "CertificateRequest"}),
    ESO_GROUP: frozenset({"ExternalSecret", "SecretStore", "PushSecret"}),
    GATEWAY_GROUP: frozenset(
        {"Gateway", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute", "ReferenceGrant"}
    ),
    "monitoring.coreos.com": frozenset(
        {"ServiceMonitor", "PodMonitor", "PrometheusRule", "Probe", "ScrapeConfig", "AlertmanagerConfig"}
    ),
    CNPG_GROUP: frozenset({"Cluster", "Backup", "ScheduledBackup", "Pooler", "Database"}),
    "volsync.backube": frozenset({"ReplicationSource", "ReplicationDestination"}),
}


def known_namespaced(group: str, kind: str) -> bool:
    """Whether objects of this kind certainly live in a namespace (Kubernetes' own kinds, Flux's, and a
    few common operators'). A custom kind not listed may be cluster-scoped: kustomize stamps a namespace
    on kinds it does not know, and the API server ignores it there."""
    if group in _NAMESPACED_GROUPS:
        return kind not in CLUSTER_SCOPED_KINDS
    if group.endswith(".toolkit.fluxcd.io"):
        return True
    return kind in _NAMESPACED_KINDS.get(group, ())


#: Kinds whose pod template is at ``spec.template.spec`` (or deeper for CronJob).
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")


def pod_spec(res: Resource) -> Mapping[str, Any] | None:
    """The pod spec of a workload object, or None for other kinds."""
    kind = res.kind
    if kind not in WORKLOAD_KINDS or res.group not in ("", "apps", "batch"):
        return None
    spec = _map(res.obj.get("spec"))
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        return _map(get_path(spec, "jobTemplate", "spec", "template", "spec"))
    return _map(get_path(spec, "template", "spec"))


def pod_spec_path(kind: str) -> tuple[str, ...]:
    """Where a workload of ``kind`` keeps its pod spec."""
    if kind == "Pod":
        return ("spec",)
    if kind == "CronJob":
        return ("spec", "jobTemplate", "spec", "template", "spec")
    return ("spec", "template", "spec")


class PodRef(NamedTuple):
    """A Secret, ConfigMap or claim a pod needs (envFrom, env valueFrom, volumes)."""

    kind: str
    """Secret, ConfigMap or PersistentVolumeClaim."""
    name: str
    path: tuple[str | int, ...]
    """Where in the pod spec."""
    optional: bool


_ENV_FROM = (("secretRef", "Secret"), ("configMapRef", "ConfigMap"))
_ENV_VALUE_FROM = (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap"))
_VOLUMES = (
    ("secret", "secretName", "Secret"),
    ("configMap", "name", "ConfigMap"),
    ("persistentVolumeClaim", "claimName", "PersistentVolumeClaim"),
)


def pod_references(pod: Mapping[str, Any]) -> Iterator[PodRef]:
    """Every Secret, ConfigMap and PersistentVolumeClaim a pod spec names."""
    for field, i, container in containers(pod):
        for j, source in enumerate(_list(container.get("envFrom"))):
            for key, kind in _ENV_FROM:
                ref = source.get(key) if isinstance(source, dict) else None
                if isinstance(ref, dict) and isinstance(ref.get("name"), str):
                    yield PodRef(
                        kind, ref["name"], (field, i, "envFrom", j, key, "name"), ref.get("optional") is True
                    )
        for j, env in enumerate(_list(container.get("env"))):
            value_from = env.get("valueFrom") if isinstance(env, dict) else None
            for key, kind in _ENV_VALUE_FROM:
                ref = value_from.get(key) if isinstance(value_from, dict) else None
                if isinstance(ref, dict) and isinstance(ref.get("name"), str):
                    path = (field, i, "env", j, "valueFrom", key, "name")
                    yield PodRef(kind, ref["name"], path, ref.get("optional") is True)
    for i, volume in enumerate(_list(pod.get("volumes"))):
        for key, name_key, kind in _VOLUMES:
            spec = volume.get(key) if isinstance(volume, dict) else None
            if isinstance(spec, dict) and isinstance(spec.get(name_key), str):
                yield PodRef(
                    kind, spec[name_key], ("volumes", i, key, name_key), spec.get("optional") is True
                )


def containers(pod: Mapping[str, Any]) -> Iterator[tuple[str, int, Mapping[str, Any]]]:
    """(list name, index, container) for containers, initContainers and ephemeralContainers."""
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for i, container in enumerate(_list(pod.get(field))):
            if isinstance(container, dict):
                yield field, i, container


_DISPATCH: dict[tuple[str, str], type[Any]] = {
    (FLUX_KUSTOMIZE_GROUP, "Kustomization"): Kustomization,
    (FLUX_HELM_GROUP, "HelmRelease"): HelmRelease,
    (FLUX_SOURCE_GROUP, "GitRepository"): GitRepository,
    (FLUX_SOURCE_GROUP, "OCIRepository"): OCIRepository,
    (FLUX_SOURCE_GROUP, "HelmRepository"): HelmRepository,
    (FLUX_SOURCE_GROUP, "HelmChart"): HelmChart,
    (FLUX_SOURCE_GROUP, "Bucket"): Bucket,
    (ESO_GROUP, "ExternalSecret"): ExternalSecret,
    (ESO_GROUP, "SecretStore"): SecretStore,
    (ESO_GROUP, "ClusterSecretStore"): SecretStore,
    ("", "Secret"): Secret,
    ("", "ConfigMap"): ConfigMap,
    ("", "PersistentVolumeClaim"): PersistentVolumeClaim,
    ("", "Namespace"): Namespace,
    (GATEWAY_GROUP, "Gateway"): Gateway,
    (GATEWAY_GROUP, "HTTPRoute"): HTTPRoute,
    (CERT_MANAGER_GROUP, "Certificate"): Certificate,
    (CNPG_GROUP, "Cluster"): PostgresCluster,
}


def typed(res: Resource) -> Any:
    """The typed view of a resource, dispatched on API group and kind."""
    cls = _DISPATCH.get((res.group, res.kind), GenericObject)
    return cls(res)


_DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def valid_name(name: str) -> bool:
    """Whether ``name`` is a valid Kubernetes object name (RFC 1123 subdomain)."""
    return len(name) <= 253 and bool(_DNS1123.match(name))
