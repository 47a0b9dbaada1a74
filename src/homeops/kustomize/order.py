"""kustomize's legacy output order (what ``kubectl kustomize`` prints): kinds in a fixed priority,
then by group, version and kind, then namespace and name. Builds keep input order; this is for
printing."""

from __future__ import annotations

from collections.abc import Sequence

from ..model.base import Resource
from .resid import split_gv, text

_FIRST = (
    "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
    "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap", "Secret",
    "Endpoints", "Service", "LimitRange", "PriorityClass", "PersistentVolume", "PersistentVolumeClaim",
    "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget",
)  # fmt: skip
_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
_RANK = {kind: i - len(_FIRST) for i, kind in enumerate(_FIRST)} | {
    kind: i + 1 for i, kind in enumerate(_LAST)
}


def _key(res: Resource) -> tuple[int, str, str]:
    api_version = res.api_version
    kind = res.kind
    group, version = split_gv(api_version)
    gvk = "_".join((group or "~G", version or "~V", kind or "~K"))
    meta = res.metadata
    namespace = text(meta.get("namespace")) or "~X"
    name = text(meta.get("name")) or "~N"
    ident = f"{kind or '[noKind]'}.{version or '[noVer]'}.{group or '[noGrp]'}|{namespace}|{name}"
    return _RANK.get(kind, 0), gvk, ident


def legacy_sort(resources: Sequence[Resource]) -> list[Resource]:
    """The resources in kustomize's legacy order (a new list)."""
    return sorted(resources, key=_key)
