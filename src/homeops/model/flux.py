"""Typed, read-only views of the Flux kinds: Kustomization, HelmRelease and the sources.

Each view is built from a :class:`~homeops.model.base.Resource` by ``from_resource`` and keeps the
resource (``res``) for anything not modelled. Parsing is forgiving: a field of the wrong type reads
as absent, so the rules can report it instead of the model crashing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..records import NamedTuple
from .base import ObjectRef, View, get_path

FLUX_KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
FLUX_HELM_GROUP = "helm.toolkit.fluxcd.io"
FLUX_SOURCE_GROUP = "source.toolkit.fluxcd.io"

#: API versions Flux has removed or deprecated, with the version that replaces them.
DEPRECATED_VERSIONS: dict[tuple[str, str], str] = {
    (FLUX_KUSTOMIZE_GROUP, "v1beta1"): "v1",
    (FLUX_KUSTOMIZE_GROUP, "v1beta2"): "v1",
    (FLUX_HELM_GROUP, "v2beta1"): "v2",
    (FLUX_HELM_GROUP, "v2beta2"): "v2",
    (FLUX_SOURCE_GROUP, "v1beta1"): "v1",
    (FLUX_SOURCE_GROUP, "v1beta2"): "v1",
}


def _str(value: Any) -> str | None:
    # a tuple of types, not `X | Y`: that builds a union object at every call (a hot path)
    return value if isinstance(value, str) else (str(value) if isinstance(value, (int, float)) else None)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _bool(value: Any, default: bool = False) -> bool:
    return value if isinstance(value, bool) else default


def refs(items: Any, *, default_kind: str, default_namespace: str) -> tuple[ObjectRef, ...]:
    """``dependsOn``-style lists: ``{name, namespace?}`` entries (or bare strings, as in v1beta1)."""
    out = []
    for item in _list(items):
        if isinstance(item, str):
            out.append(ObjectRef(default_kind, item, default_namespace))
        elif isinstance(item, dict) and _str(item.get("name")):
            out.append(
                ObjectRef(
                    _str(item.get("kind")) or default_kind,
                    str(_str(item.get("name"))),
                    _str(item.get("namespace")) or default_namespace,
                )
            )
    return tuple(out)


def source_ref(value: Any, namespace: str) -> ObjectRef | None:
    ref = _map(value)
    name = _str(ref.get("name"))
    kind = _str(ref.get("kind"))
    if not name or not kind:
        return None
    return ObjectRef(kind, name, _str(ref.get("namespace")) or namespace)


class FluxObject(View):
    """What every Flux object shares."""

    __slots__ = ()

    @property
    def interval(self) -> str | None:
        return _str(self.spec.get("interval"))

    @property
    def timeout(self) -> str | None:
        return _str(self.spec.get("timeout"))

    @property
    def suspended(self) -> bool:
        return _bool(self.spec.get("suspend"))

    @property
    def deprecated_api(self) -> str | None:
        """The replacement API version when this object uses a deprecated one."""
        return DEPRECATED_VERSIONS.get((self.res.group, self.res.version))


class SubstituteRef(NamedTuple):
    """One ``postBuild.substituteFrom`` entry."""

    kind: str
    name: str
    optional: bool


class Kustomization(FluxObject):
    """A Flux ``Kustomization`` (kustomize.toolkit.fluxcd.io)."""

    __slots__ = ()

    @property
    def path(self) -> str | None:
        return _str(self.spec.get("path"))

    @property
    def source_ref(self) -> ObjectRef | None:
        return source_ref(self.spec.get("sourceRef"), self.namespace)

    @property
    def depends_on(self) -> tuple[ObjectRef, ...]:
        return refs(
            self.spec.get("dependsOn"), default_kind="Kustomization", default_namespace=self.namespace
        )

    @property
    def target_namespace(self) -> str | None:
        return _str(self.spec.get("targetNamespace"))

    @property
    def substitute(self) -> dict[str, str]:
        values = _map(get_path(self.spec, "postBuild", "substitute"))
        return {str(k): "" if v is None else _scalar_text(v) for k, v in values.items()}

    @property
    def substitute_from(self) -> tuple[SubstituteRef, ...]:
        out = []
        for item in _list(get_path(self.spec, "postBuild", "substituteFrom")):
            if isinstance(item, dict) and _str(item.get("name")):
                out.append(
                    SubstituteRef(
                        _str(item.get("kind")) or "ConfigMap",
                        str(_str(item.get("name"))),
                        _bool(item.get("optional")),
                    )
                )
        return tuple(out)

    @property
    def has_post_build(self) -> bool:
        return isinstance(self.spec.get("postBuild"), dict)

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(c for c in _list(self.spec.get("components")) if isinstance(c, str))

    @property
    def patches(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(p for p in _list(self.spec.get("patches")) if isinstance(p, dict))

    @property
    def images(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(i for i in _list(self.spec.get("images")) if isinstance(i, dict))

    @property
    def name_prefix(self) -> str | None:
        return _str(self.spec.get("namePrefix"))

    @property
    def name_suffix(self) -> str | None:
        return _str(self.spec.get("nameSuffix"))

    @property
    def common_metadata(self) -> Mapping[str, Any]:
        return _map(self.spec.get("commonMetadata"))

    @property
    def decryption(self) -> bool:
        return isinstance(self.spec.get("decryption"), dict)

    @property
    def wait(self) -> bool:
        return _bool(self.spec.get("wait"))

    @property
    def prune(self) -> bool:
        return _bool(self.spec.get("prune"))


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ValuesReference(NamedTuple):
    """One HelmRelease ``valuesFrom`` entry."""

    kind: str
    name: str
    values_key: str
    target_path: str | None
    optional: bool
    literal: bool = False
    """With ``target_path``: set the value verbatim, without Helm's ``--set`` syntax."""


class ChartTemplate(NamedTuple):
    """``spec.chart.spec`` of a HelmRelease: a chart looked up in a source."""

    chart: str
    version: str | None
    source_ref: ObjectRef | None


class HelmRelease(FluxObject):
    """A Flux ``HelmRelease`` (helm.toolkit.fluxcd.io)."""

    __slots__ = ()

    @property
    def chart(self) -> ChartTemplate | None:
        spec = _map(get_path(self.spec, "chart", "spec"))
        name = _str(spec.get("chart"))
        if not name:
            return None
        return ChartTemplate(
            name, _str(spec.get("version")), source_ref(spec.get("sourceRef"), self.namespace)
        )

    @property
    def chart_ref(self) -> ObjectRef | None:
        return source_ref(self.spec.get("chartRef"), self.namespace)

    @property
    def values(self) -> Mapping[str, Any]:
        return _map(self.spec.get("values"))

    @property
    def values_from(self) -> tuple[ValuesReference, ...]:
        out = []
        for item in _list(self.spec.get("valuesFrom")):
            if isinstance(item, dict) and _str(item.get("name")):
                out.append(
                    ValuesReference(
                        _str(item.get("kind")) or "ConfigMap",
                        str(_str(item.get("name"))),
                        _str(item.get("valuesKey")) or "values.yaml",
                        _str(item.get("targetPath")),
                        _bool(item.get("optional")),
                        _bool(item.get("literal")),
                    )
                )
        return tuple(out)

    @property
    def depends_on(self) -> tuple[ObjectRef, ...]:
        return refs(self.spec.get("dependsOn"), default_kind="HelmRelease", default_namespace=self.namespace)

    @property
    def release_name(self) -> str:
        explicit = _str(self.spec.get("releaseName"))
        if explicit:
            return explicit
        target = self.target_namespace
        return f"{target}-{self.name}" if target else self.name

    @property
    def target_namespace(self) -> str | None:
        return _str(self.spec.get("targetNamespace"))

    @property
    def release_namespace(self) -> str:
        return self.target_namespace or self.namespace

    @property
    def storage_namespace(self) -> str:
        return _str(self.spec.get("storageNamespace")) or self.namespace

    def retries(self, action: str) -> int | None:
        """``spec.<action>.remediation.retries`` (action: install, upgrade); None when not set."""
        value = get_path(self.spec, action, "remediation", "retries")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def crds_policy(self, action: str) -> str:
        """``spec.<action>.crds``: Skip, Create or CreateReplace, with Flux's defaults."""
        value = _str(get_path(self.spec, action, "crds"))
        if value:
            return value
        return "Create" if action == "install" else "Skip"

    @property
    def post_renderers(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(p for p in _list(self.spec.get("postRenderers")) if isinstance(p, dict))


class GitRepository(FluxObject):
    __slots__ = ()

    @property
    def url(self) -> str | None:
        return _str(self.spec.get("url"))

    @property
    def ref(self) -> Mapping[str, Any]:
        return _map(self.spec.get("ref"))


class OCIRepository(FluxObject):
    __slots__ = ()

    @property
    def url(self) -> str | None:
        return _str(self.spec.get("url"))

    @property
    def ref(self) -> Mapping[str, Any]:
        return _map(self.spec.get("ref"))

    @property
    def pinned(self) -> bool:
        """Whether the reference names a tag, a semver range or a digest (anything but "latest")."""
        ref = self.ref
        tag = _str(ref.get("tag"))
        return bool(_str(ref.get("digest")) or _str(ref.get("semver")) or (tag and tag != "latest"))

    @property
    def insecure(self) -> bool:
        return _bool(self.spec.get("insecure"))


class HelmRepository(FluxObject):
    __slots__ = ()

    @property
    def url(self) -> str | None:
        return _str(self.spec.get("url"))

    @property
    def is_oci(self) -> bool:
        return self.spec.get("type") == "oci" or (self.url or "").startswith("oci://")


class HelmChart(FluxObject):
    __slots__ = ()

    @property
    def chart(self) -> str | None:
        return _str(self.spec.get("chart"))

    @property
    def version(self) -> str | None:
        return _str(self.spec.get("version"))

    @property
    def source_ref(self) -> ObjectRef | None:
        return source_ref(self.spec.get("sourceRef"), self.namespace)


class Bucket(FluxObject):
    __slots__ = ()

    @property
    def bucket_name(self) -> str | None:
        return _str(self.spec.get("bucketName"))


SOURCE_KINDS = ("GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket")
