"""Object identity as kustomize sees it, and the copy-on-write wrapper every build step works on.

kustomize identifies an object by group, version, kind, name and *effective* namespace: no namespace
and ``default`` are the same, and cluster-scoped kinds have none whatever their manifest says. Which
kinds are cluster-scoped is decided by the built-in Kubernetes v1.21 OpenAPI data kustomize v5 ships
with, matched on the exact apiVersion and kind: a cluster-scoped custom resource (``ClusterIssuer``)
is namespaced as far as kustomize is concerned, and gets a namespace like any other object.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..model.base import Origin, deep_copy

#: apiVersion → kinds kustomize v5.8 treats as cluster-scoped (measured against ``kubectl kustomize``).
CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset(
    (api_version, kind)
    for api_version, kinds in {
        "v1": ("Namespace", "PersistentVolume", "ComponentStatus", "Node", "NodeProxyOptions"),
        "storage.k8s.io/v1": ("StorageClass", "CSIDriver", "CSINode", "VolumeAttachment"),
        "storage.k8s.io/v1beta1": ("StorageClass", "CSIDriver", "CSINode", "VolumeAttachment"),
        "apiextensions.k8s.io/v1": ("CustomResourceDefinition",),
        "apiextensions.k8s.io/v1beta1": ("CustomResourceDefinition",),
        "policy/v1beta1": ("PodSecurityPolicy",),
        "rbac.authorization.k8s.io/v1": ("ClusterRole", "ClusterRoleBinding"),
        "rbac.authorization.k8s.io/v1beta1": ("ClusterRole", "ClusterRoleBinding"),
        "scheduling.k8s.io/v1": ("PriorityClass",),
        "scheduling.k8s.io/v1beta1": ("PriorityClass",),
        "apiregistration.k8s.io/v1": ("APIService",),
        "apiregistration.k8s.io/v1beta1": ("APIService",),
        "certificates.k8s.io/v1": ("CertificateSigningRequest",),
        "certificates.k8s.io/v1beta1": ("CertificateSigningRequest",),
        "flowcontrol.apiserver.k8s.io/v1beta1": ("FlowSchema", "PriorityLevelConfiguration"),
        "networking.k8s.io/v1": ("IngressClass",),
        "networking.k8s.io/v1beta1": ("IngressClass",),
        "node.k8s.io/v1": ("RuntimeClass",),
        "node.k8s.io/v1beta1": ("RuntimeClass",),
        "admissionregistration.k8s.io/v1": ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"),
        "admissionregistration.k8s.io/v1beta1": (
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
        ),
    }.items()
    for kind in kinds
)

NOT_NAMESPACED = "_non_namespaceable_"
"""The effective namespace of a cluster-scoped object (kustomize's own marker)."""


def split_gv(api_version: str) -> tuple[str, str]:
    """kustomize's split of an apiVersion: ``apps/v1`` → (apps, v1), ``v1`` → ("", v1)."""
    slash = api_version.find("/")
    if slash >= 0:
        return api_version[:slash], api_version[slash + 1 :]
    if api_version == "builtin":
        return api_version, ""
    return "", api_version


def is_cluster_scoped(api_version: str, kind: str) -> bool:
    return (api_version, kind) in CLUSTER_SCOPED


def effective_namespace(api_version: str, kind: str, namespace: str) -> str:
    if (api_version, kind) in CLUSTER_SCOPED:
        return NOT_NAMESPACED
    return "default" if namespace in ("", "default") else namespace


def text(value: Any) -> str:
    """A scalar as kustomize reads it into a string field (None is empty)."""
    if value.__class__ is str:
        return value  # by far the most common case
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


ResId = tuple[str, str, str, str, str]
"""(group, version, kind, name, effective namespace): equal ids are the same object to kustomize."""


class Res:
    """One object during a build: its data, where it came from, and kustomize's build bookkeeping.

    ``obj`` may share containers with the source tree's parsed documents. Writes go through
    :meth:`writable` (copies only the containers on the written path, once) or :meth:`own_all`
    (one deep copy before a patch rewrites the object wholesale).
    """

    __slots__ = (
        "_all",
        "_keep",
        "_owned",
        "behavior",
        "hash_suffix",
        "obj",
        "origin",
        "prefixes",
        "prev",
        "suffixes",
    )

    def __init__(self, obj: dict[str, Any], origin: Origin) -> None:
        self.obj = obj
        self.origin = origin
        self._owned: set[int] = set()
        self._keep: list[object] = []
        self._all = False
        self.prev: list[tuple[str, str, str]] = []
        """Earlier (kind, effective namespace, name) of the object, oldest first."""
        self.prefixes: list[str] = []
        self.suffixes: list[str] = []
        self.behavior = ""
        """Generator behavior (create, merge, replace) of a generated object, else empty."""
        self.hash_suffix = False
        """Whether a content hash is appended to the name at the end of the build."""

    # -- reading ---------------------------------------------------------------------------

    @property
    def api_version(self) -> str:
        return text(self.obj.get("apiVersion"))

    @property
    def kind(self) -> str:
        return text(self.obj.get("kind"))

    @property
    def meta(self) -> dict[str, Any]:
        meta = self.obj.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        return text(self.meta.get("name"))

    @property
    def namespace(self) -> str:
        return text(self.meta.get("namespace"))

    @property
    def labels(self) -> dict[str, Any]:
        labels = self.meta.get("labels")
        return labels if isinstance(labels, dict) else {}

    @property
    def annotations(self) -> dict[str, Any]:
        annotations = self.meta.get("annotations")
        return annotations if isinstance(annotations, dict) else {}

    def gvk(self) -> tuple[str, str, str]:
        group, version = split_gv(self.api_version)
        return group, version, self.kind

    def cluster_scoped(self) -> bool:
        return (self.api_version, self.kind) in CLUSTER_SCOPED

    def effective_namespace(self) -> str:
        return effective_namespace(self.api_version, self.kind, self.namespace)

    def cur_id(self) -> ResId:
        # The properties spelt out: this runs for every object at every build step.
        obj = self.obj
        api_version, kind = text(obj.get("apiVersion")), text(obj.get("kind"))
        meta = obj.get("metadata")
        if isinstance(meta, dict):
            name, namespace = text(meta.get("name")), text(meta.get("namespace"))
        else:
            name = namespace = ""
        group, version = split_gv(api_version)
        return group, version, kind, name, effective_namespace(api_version, kind, namespace)

    def prev_ids(self) -> list[ResId]:
        """Earlier ids, oldest first: the kinds and names recorded, the current group and version."""
        group, version = split_gv(self.api_version)
        return [(group, version, kind, name, ns) for kind, ns, name in self.prev]

    def org_id(self) -> ResId:
        """The id the object had when it entered the build."""
        if self.prev:
            kind, ns, name = self.prev[0]
            group, version = split_gv(self.api_version)
            return group, version, kind, name, ns
        return self.cur_id()

    def all_ids(self) -> list[ResId]:
        return [*self.prev_ids(), self.cur_id()]

    def store_previous_id(self) -> None:
        self.prev.append((self.kind, self.effective_namespace(), self.name))

    # -- writing ---------------------------------------------------------------------------

    def _private(self, container: Any) -> Any:
        copied = dict(container) if isinstance(container, dict) else list(container)
        self._owned.add(id(copied))
        self._keep.append(copied)
        return copied

    def own(self, container: Any) -> Any:
        """``container`` (of this object's content) if it is private to this object already, else a
        private copy of it (which the caller puts in its place)."""
        if self._all or id(container) in self._owned:
            return container
        return self._private(container)

    def writable(self, path: Iterable[str | int] = ()) -> Any:
        """The container at ``path`` (each step must exist), made private to this object."""
        node: Any = self.obj
        if not self._all and id(node) not in self._owned:
            node = self.obj = self._private(node)
        for step in path:
            child = node[step]
            if not self._all and id(child) not in self._owned:
                child = self._private(child)
                node[step] = child
            node = child
        return node

    def writable_map(self, path: Iterable[str | int]) -> dict[str, Any]:
        """The mapping at ``path``, created (replacing nulls and scalars) where missing.

        Integer steps index existing list elements; string steps create mappings.
        """
        node: Any = self.writable()
        for step in path:
            if isinstance(step, int):
                child = node[step]
                if not self._all and id(child) not in self._owned:
                    child = self._private(child)
                    node[step] = child
                node = child
                continue
            child = node.get(step)
            # a tuple of types, not `X | Y`: that builds a union object at every call (a hot path)
            if not isinstance(child, (dict, list)):
                child = {}
                self._owned.add(id(child))
                self._keep.append(child)
                node[step] = child
            elif not self._all and id(child) not in self._owned:
                child = self._private(child)
                node[step] = child
            node = child
        result: dict[str, Any] = node
        return result

    def own_all(self) -> dict[str, Any]:
        """Make every container private (one deep copy) and return the object."""
        if not self._all:
            self.obj = deep_copy(self.obj)
            self._all = True
            self._owned.clear()
            self._keep.clear()
        return self.obj

    def take(self, obj: dict[str, Any]) -> None:
        """Take ``obj`` as the new content; it may share containers with anything (copy-on-write)."""
        self.obj = obj
        self._all = False
        self._owned.clear()
        self._keep.clear()

    def replace(self, obj: dict[str, Any]) -> None:
        """Take ``obj`` (which must be private to this object) as the new content."""
        self.obj = obj
        self._all = True
        self._owned.clear()
        self._keep.clear()

    def set_name(self, name: str) -> None:
        self.writable_map(("metadata",))["name"] = name

    def set_namespace(self, namespace: str) -> None:
        self.writable_map(("metadata",))["namespace"] = namespace

    def clone(self) -> Res:
        """An independent copy (data deep-copied, bookkeeping copied)."""
        other = Res(deep_copy(self.obj), self.origin)
        other._all = True
        other.prev = list(self.prev)
        other.prefixes = list(self.prefixes)
        other.suffixes = list(self.suffixes)
        other.behavior = self.behavior
        other.hash_suffix = self.hash_suffix
        return other

    def __repr__(self) -> str:
        return f"Res({self.kind}/{self.namespace}/{self.name} from {self.origin})"


def format_id(res_id: ResId) -> str:
    group, version, kind, name, ns = res_id
    api = f"{group}/{version}" if group else version
    where = "" if ns in (NOT_NAMESPACED,) else f" in namespace {ns}"
    return f"{kind} {name!r} ({api}){where}"
