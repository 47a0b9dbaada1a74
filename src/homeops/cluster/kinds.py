"""The kinds homeops reads from a cluster: everything status, why and doctor look at, and nothing else.

Each kind lists the API versions to try, newest first: a cluster serves whichever its controllers
installed (``helm.toolkit.fluxcd.io/v2`` on current Flux, ``v2beta2`` on older ones).
"""

from __future__ import annotations

from ..records import NamedTuple


class Kind(NamedTuple):
    group: str
    versions: tuple[str, ...]
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def label(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind


KINDS: tuple[Kind, ...] = (
    # Flux
    Kind("kustomize.toolkit.fluxcd.io", ("v1", "v1beta2"), "Kustomization", "kustomizations"),
    Kind("helm.toolkit.fluxcd.io", ("v2", "v2beta2", "v2beta1"), "HelmRelease", "helmreleases"),
    Kind("source.toolkit.fluxcd.io", ("v1", "v1beta2"), "GitRepository", "gitrepositories"),
    Kind("source.toolkit.fluxcd.io", ("v1", "v1beta2"), "OCIRepository", "ocirepositories"),
    Kind("source.toolkit.fluxcd.io", ("v1", "v1beta2"), "HelmRepository", "helmrepositories"),
    Kind("source.toolkit.fluxcd.io", ("v1", "v1beta2"), "HelmChart", "helmcharts"),
    Kind("source.toolkit.fluxcd.io", ("v1", "v1beta2"), "Bucket", "buckets"),
    # workloads and what explains them
    Kind("apps", ("v1",), "Deployment", "deployments"),
    Kind("apps", ("v1",), "StatefulSet", "statefulsets"),
    Kind("apps", ("v1",), "DaemonSet", "daemonsets"),
    Kind("apps", ("v1",), "ReplicaSet", "replicasets"),
    Kind("batch", ("v1",), "Job", "jobs"),
    Kind("batch", ("v1",), "CronJob", "cronjobs"),
    Kind("", ("v1",), "Pod", "pods"),
    Kind("", ("v1",), "Event", "events"),
    Kind("", ("v1",), "Service", "services"),
    Kind("", ("v1",), "ConfigMap", "configmaps"),
    Kind("", ("v1",), "Secret", "secrets"),
    # secrets from a vault
    Kind("external-secrets.io", ("v1", "v1beta1"), "ExternalSecret", "externalsecrets"),
    Kind("external-secrets.io", ("v1", "v1beta1"), "SecretStore", "secretstores"),
    Kind("external-secrets.io", ("v1", "v1beta1"), "ClusterSecretStore", "clustersecretstores", False),
    # routes
    Kind("gateway.networking.k8s.io", ("v1", "v1beta1"), "Gateway", "gateways"),
    Kind("gateway.networking.k8s.io", ("v1", "v1beta1"), "HTTPRoute", "httproutes"),
    # storage
    Kind("", ("v1",), "PersistentVolumeClaim", "persistentvolumeclaims"),
    Kind("storage.k8s.io", ("v1",), "StorageClass", "storageclasses", False),
)

BY_GROUP_KIND: dict[tuple[str, str], Kind] = {(k.group, k.kind): k for k in KINDS}

HELM_RELEASE_SECRET_TYPE = "helm.sh/release.v1"
"""Helm's own release records: large, and nothing homeops explains needs them."""
