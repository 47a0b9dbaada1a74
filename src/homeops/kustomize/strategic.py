"""Strategic merge patches as kustomize v5 applies them (kyaml's merge2 walker, not apimachinery's).

The rules that matter, all measured against ``kubectl kustomize``:

* maps merge key by key; ``null`` in the patch deletes; ``$patch: delete`` / ``$patch: replace``
  on a map delete or replace it;
* a list merges by key only when the built-in Kubernetes schema gives it a merge strategy
  (containers by ``name``, env by ``name``, volumeMounts by ``mountPath``, …). Every other list,
  and every list of a custom resource, is replaced by the patch's list;
* merged lists put the patch's elements first, then the remaining ones of the object;
  ``$patch: delete`` on an element removes it; ``$patch: replace`` on an element has no effect;
* a patch field whose shape differs from the object's (map against scalar) is an error.
"""

from __future__ import annotations

from typing import Any

from ..model.base import deep_copy
from ..records import NamedTuple
from .resid import text


class MergeError(Exception):
    """The patch cannot be merged into the object (the caller adds file and line)."""


MISSING: Any = object()
CLEAR: Any = object()


# -- schema ------------------------------------------------------------------------------------------


class _Field(NamedTuple):
    strategy: str = ""
    keys: tuple[str, ...] = ()
    ref: str = ""
    """Definition of the field's value (object fields) or of its elements (lists)."""
    array: bool = False


def _merge(*keys: str, ref: str = "") -> _Field:
    return _Field("merge", keys, ref, True)


_META = {"metadata": _Field(ref="ObjectMeta")}
_CONDITIONS = {"conditions": _merge("type")}
_WORKLOAD_SPEC = {"template": _Field(ref="PodTemplateSpec")}
_WORKLOAD = {**_META, "spec": _Field(ref="WorkloadSpec"), "status": _Field(ref="Status")}

#: The patch metadata of kustomize's built-in Kubernetes v1.21 schema, reduced to the paths that
#: lead to lists with a merge strategy (everything else merges like a custom resource).
_DEFS: dict[str, dict[str, _Field]] = {
    "ObjectMeta": {"finalizers": _merge(), "ownerReferences": _merge("uid")},
    "Object": _META,
    "Status": _CONDITIONS,
    "Workload": _WORKLOAD,
    "WorkloadSpec": _WORKLOAD_SPEC,
    "PodTemplateSpec": {**_META, "spec": _Field(ref="PodSpec")},
    "PodSpec": {
        "containers": _merge("name", ref="Container"),
        "ephemeralContainers": _merge("name", ref="EphemeralContainer"),
        "initContainers": _merge("name", ref="Container"),
        "hostAliases": _merge("ip"),
        "imagePullSecrets": _merge("name"),
        "topologySpreadConstraints": _merge("topologyKey", "whenUnsatisfiable"),
        "volumes": _Field("merge,retainKeys", ("name",), "Volume", True),
    },
    "Volume": {"ephemeral": _Field(ref="EphemeralVolumeSource")},
    "EphemeralVolumeSource": {"volumeClaimTemplate": _Field(ref="Object")},
    "Container": {
        "env": _merge("name"),
        "ports": _merge("containerPort", "protocol"),
        "volumeDevices": _merge("devicePath"),
        "volumeMounts": _merge("mountPath"),
    },
    "EphemeralContainer": {
        "env": _merge("name"),
        "volumeDevices": _merge("devicePath"),
        "volumeMounts": _merge("mountPath"),
    },
    "Pod": {**_META, "spec": _Field(ref="PodSpec"), "status": _Field(ref="PodStatus")},
    "PodStatus": {**_CONDITIONS, "podIPs": _merge("ip")},
    "PodTemplate": {**_META, "template": _Field(ref="PodTemplateSpec")},
    "CronJob": {**_META, "spec": _Field(ref="CronJobSpec")},
    "CronJobSpec": {"jobTemplate": _Field(ref="JobTemplateSpec")},
    "JobTemplateSpec": {**_META, "spec": _Field(ref="WorkloadSpec")},
    "Service": {**_META, "spec": _Field(ref="ServiceSpec"), "status": _Field(ref="ServiceStatus")},
    "ServiceSpec": {"ports": _merge("port", "protocol")},
    "ServiceStatus": {"conditions": _merge("type")},
    "ServiceAccount": {**_META, "secrets": _merge("name")},
    "Webhooks": {**_META, "webhooks": _merge("name")},
    "Node": {**_META, "spec": _Field(ref="NodeSpec"), "status": _Field(ref="NodeStatus")},
    "NodeSpec": {"podCIDRs": _merge()},
    "NodeStatus": {"addresses": _merge("type"), "conditions": _merge("type")},
    "CSINode": {**_META, "spec": _Field(ref="CSINodeSpec")},
    "CSINodeSpec": {"drivers": _merge("name")},
    "WithStatus": {**_META, "status": _Field(ref="Status")},
}


def _roots() -> dict[tuple[str, str], str]:
    roots: dict[tuple[str, str], str] = {}

    def add(api_versions: str, kinds: str, definition: str) -> None:
        for api_version in api_versions.split():
            for kind in kinds.split():
                roots[(api_version, kind)] = definition

    add("apps/v1", "DaemonSet Deployment ReplicaSet StatefulSet", "Workload")
    add("apps/v1", "ControllerRevision", "Object")
    add("batch/v1", "Job", "Workload")
    add("batch/v1 batch/v1beta1", "CronJob", "CronJob")
    add("v1", "ReplicationController", "Workload")
    add("v1", "Pod", "Pod")
    add("v1", "PodTemplate", "PodTemplate")
    add("v1", "Service", "Service")
    add("v1", "ServiceAccount", "ServiceAccount")
    add("v1", "Node", "Node")
    add("v1", "Namespace PersistentVolumeClaim ComponentStatus", "WithStatus")
    add(
        "v1",
        "Binding ConfigMap Endpoints Event LimitRange PersistentVolume ResourceQuota Secret",
        "Object",
    )
    add(
        "admissionregistration.k8s.io/v1 admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration ValidatingWebhookConfiguration",
        "Webhooks",
    )
    add("apiextensions.k8s.io/v1 apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", "Object")
    add("apiregistration.k8s.io/v1 apiregistration.k8s.io/v1beta1", "APIService", "WithStatus")
    add("authentication.k8s.io/v1", "TokenRequest TokenReview", "Object")
    add("authentication.k8s.io/v1beta1", "TokenReview", "Object")
    add(
        "authorization.k8s.io/v1 authorization.k8s.io/v1beta1",
        "LocalSubjectAccessReview SelfSubjectAccessReview SelfSubjectRulesReview SubjectAccessReview",
        "Object",
    )
    add("autoscaling/v1", "HorizontalPodAutoscaler Scale", "Object")
    add("autoscaling/v2beta1 autoscaling/v2beta2", "HorizontalPodAutoscaler", "Object")
    add("certificates.k8s.io/v1 certificates.k8s.io/v1beta1", "CertificateSigningRequest", "Object")
    add("coordination.k8s.io/v1 coordination.k8s.io/v1beta1", "Lease", "Object")
    add("discovery.k8s.io/v1 discovery.k8s.io/v1beta1", "EndpointSlice", "Object")
    add("events.k8s.io/v1 events.k8s.io/v1beta1", "Event", "Object")
    add("extensions/v1beta1", "Ingress", "Object")
    add("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema PriorityLevelConfiguration", "Object")
    add("networking.k8s.io/v1", "Ingress IngressClass NetworkPolicy", "Object")
    add("networking.k8s.io/v1beta1", "Ingress IngressClass", "Object")
    add("node.k8s.io/v1 node.k8s.io/v1beta1", "RuntimeClass", "Object")
    add("policy/v1 policy/v1beta1", "PodDisruptionBudget", "WithStatus")
    add("policy/v1beta1", "Eviction PodSecurityPolicy", "Object")
    add(
        "rbac.authorization.k8s.io/v1 rbac.authorization.k8s.io/v1beta1",
        "ClusterRole ClusterRoleBinding Role RoleBinding",
        "Object",
    )
    add("scheduling.k8s.io/v1 scheduling.k8s.io/v1beta1", "PriorityClass", "Object")
    add("storage.k8s.io/v1 storage.k8s.io/v1beta1", "CSIDriver StorageClass VolumeAttachment", "Object")
    add("storage.k8s.io/v1 storage.k8s.io/v1beta1", "CSINode", "CSINode")
    add("storage.k8s.io/v1beta1", "CSIStorageCapacity", "Object")
    return roots


_ROOTS = _roots()


class _Schema(NamedTuple):
    """A position in the schema: an object definition, or a list field with its strategy."""

    definition: str = ""
    field: _Field | None = None

    def child(self, key: str) -> _Schema | None:
        if self.field is not None:
            return None
        found = _DEFS.get(self.definition, {}).get(key)
        if found is None:
            return _KNOWN
        if found.array or found.strategy:
            return _Schema(field=found)
        return _Schema(found.ref)

    def elements(self) -> _Schema | None:
        if self.field is None or not self.field.array:
            return None
        return _Schema(self.field.ref)

    def associative(self) -> bool:
        return self.field is not None and "merge" in self.field.strategy.split(",")


_KNOWN = _Schema("")
"""A field of a known type that carries no patch metadata (its lists are replaced)."""


def _type_schema(*nodes: Any) -> _Schema | None:
    for node in nodes:
        if isinstance(node, dict):
            api_version, kind = node.get("apiVersion"), node.get("kind")
            if api_version and kind:
                found = _ROOTS.get((text(api_version), text(kind)))
                if found is not None:
                    return _Schema(found)
    return None


# -- the walk ----------------------------------------------------------------------------------------


def merge(obj: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any] | None:
    """``obj`` with ``patch`` merged in; None when deleted. ``patch`` (a private copy) is consumed.

    Copy-on-write: ``obj`` is left as it was; the result shares whatever the patch does not touch
    with it, and has new containers (its top level included) wherever something changed.
    """
    result = _walk(obj, patch, None, shared=True)
    if result is CLEAR or result is None or result is MISSING:
        return None
    if not isinstance(result, dict):
        raise MergeError("the patch does not leave a Kubernetes object")
    return dict(result) if result is obj else result


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "list"
    return "scalar"


def _walk(dest: Any, patch: Any, schema: _Schema | None, *, shared: bool = False) -> Any:
    """Merge ``patch`` into ``dest``. ``shared``: ``dest`` belongs to the object being patched and
    must not change; otherwise it is a private copy, changed in place (as kyaml changes its nodes)."""
    if schema is None:
        schema = _type_schema(dest, patch)
    present = [v for v in (dest, patch) if v is not MISSING and v is not None]
    if not present:
        return _walk_map(dest, patch, schema, shared)
    shape = _shape(present[0])
    for value in present[1:]:
        if _shape(value) != shape:
            raise MergeError(f"wrong node kind: expected a {shape} but the patch has a {_shape(value)}")
    if shape == "map":
        return _walk_map(dest, patch, schema, shared)
    if shape == "list":
        if schema is not None and schema.associative():
            if shared and isinstance(dest, list):
                # The element merge below works in place and relies on it: on a private copy.
                dest = deep_copy(dest)
            return _walk_associative(dest, patch, schema)
        return patch if patch is not MISSING else dest
    return patch if patch is not MISSING else dest


def _directive(patch: Any) -> str:
    """The ``$patch`` directive of a patch map (removed from it); ``merge`` when absent."""
    if not isinstance(patch, dict) or "$patch" not in patch:
        return "merge"
    value = text(patch.pop("$patch"))
    if value not in ("delete", "replace", "merge"):
        raise MergeError(f"unknown patch strategy {value!r}")
    return value


def _walk_map(dest: Any, patch: Any, schema: _Schema | None, shared: bool = False) -> Any:
    if dest is MISSING or dest is None:
        if _directive(patch) == "delete":
            return CLEAR
        dest = patch
    elif patch is None:
        return CLEAR
    else:
        directive = _directive(patch)
        if directive == "delete":
            return CLEAR
        if directive == "replace":
            dest = patch
    if not isinstance(dest, dict):
        return dest
    if not isinstance(patch, dict):
        return dest
    if dest is patch:
        shared = False  # the patch's own mapping: a private copy
    elif shared:
        dest = dict(dest)  # copy-on-write: below, only what the patch reaches is copied
    for key in sorted(set(dest) | set(patch)):
        if key not in patch:
            continue
        child_schema = schema.child(key) if schema is not None else None
        child = _walk(dest.get(key, MISSING), patch[key], child_schema, shared=shared)
        if child is CLEAR or child is None or child is MISSING:
            dest.pop(key, None)
        else:
            dest[key] = child
    return dest


# -- associative lists (kyaml's algorithm, element identity and all) ---------------------------------


def _value(elem: Any, key: str) -> str | None:
    """The text of ``elem[key]``, None when ``elem`` is not a map or has no such field."""
    if not isinstance(elem, dict) or key not in elem:
        return None
    value = elem[key]
    return "" if value is None else text(value)


def _key_values(elem: Any, keys: tuple[str, ...]) -> list[str]:
    values = []
    for key in keys:
        value = elem.get(key) if isinstance(elem, dict) else None
        values.append("" if value in (None, "", {}, []) else text(value))
    return values


def _find(items: list[Any], keys: list[str], values: list[str]) -> Any:
    """kyaml's ElementMatcher: the first element whose fields equal ``values`` exactly."""
    if not keys or not keys[0]:
        for item in items:
            # a tuple of types, not `X | Y`: that builds a union object at every call (a hot path)
            if not isinstance(item, (dict, list)) and _scalar_text(item) == values[0]:
                return item
        return MISSING
    for item in items:
        if isinstance(item, dict) and all(_value(item, k) == v for k, v in zip(keys, values, strict=True)):
            return item
    return MISSING


def _scalar_text(value: Any) -> str:
    return "" if value is None else text(value)


def _set_element(items: list[Any], element: Any, keys: list[str], values: list[str]) -> None:
    """kyaml's ElementSetter: replace (or delete, when ``element`` is MISSING) matching elements.

    Null and empty elements are dropped on the way, and with no values nothing matches and every
    other element is dropped too: kustomize does exactly that.
    """
    mapping_setter = bool(keys and keys[0] and values and values[0])
    kept: list[Any] = []
    matched = False
    for item in items:
        if item is None or item == {}:
            continue
        if not isinstance(item, dict) and mapping_setter:
            kept.append(item)
            continue
        hit = False
        found = True
        for j, key in enumerate(keys):
            if j < len(values):
                hit = _field_matches(item, key, values[j])
            if not hit:
                found = False
                break
        if not found:
            if values:
                kept.append(item)
            continue
        matched = True
        if element is not MISSING:
            kept.append(element)
    items[:] = kept
    if element is MISSING or element is None:
        return
    if not matched:
        items.append(element)


def _field_matches(item: Any, key: str, value: str) -> bool:
    """kyaml's FieldMatcher with a string value (an empty value matches any value)."""
    if not key:
        return not isinstance(item, (dict, list)) and (not value or _scalar_text(item) == value)
    if not isinstance(item, dict) or key not in item:
        return False
    return not value or _value(item, key) == value


def _append_list(dst: list[Any], src: list[Any], keys: list[str]) -> None:
    for elem in list(src):
        if not keys[0]:
            _set_element(dst, elem, [""], [_scalar_text(elem)])
            continue
        if len(keys) > 1:
            continue
        values: list[str] = []
        for key in keys:
            if not isinstance(elem, dict) or key not in elem:
                dst.append(elem)
                continue
            values.append(_scalar_text(elem[key]))
        _set_element(dst, elem, keys, values)


def _valid_keys(values: list[str], keys: tuple[str, ...]) -> tuple[list[str], list[str]]:
    valid_keys = [k for k, v in zip(keys, values, strict=True) if v]
    valid_values = [v for v in values if v]
    if not valid_keys:
        return list(keys), list(values)
    return valid_keys, valid_values


def _walk_associative(dest: Any, patch: Any, schema: _Schema) -> Any:
    if dest is MISSING or dest is None:
        dest = patch
    elif patch is None:
        return CLEAR
    if patch is MISSING:
        return dest
    assert schema.field is not None
    keys = schema.field.keys
    sources = [s for s in (patch, dest) if isinstance(s, list)]
    element_schema = schema.elements()
    if not keys:
        return _merge_primitives(dest, patch, sources)
    if len(keys) > 1 and any(sum(1 for v in _key_values(e, keys) if v) > 1 for s in sources for e in s):
        return _merge_multi_key(dest, patch, keys, element_schema)
    seen: list[list[str]] = []
    for source in sources:
        for elem in source:
            values = _key_values(elem, keys)
            if values not in seen:
                seen.append(values)
    items: list[Any] = []
    for values in seen:
        valid_keys, valid_values = _valid_keys(values, keys)
        merged = _walk(
            _find(dest, valid_keys, valid_values) if isinstance(dest, list) else MISSING,
            _find(patch, valid_keys, valid_values) if isinstance(patch, list) else MISSING,
            element_schema,
        )
        if merged is CLEAR or merged is None or merged is MISSING or merged == {}:
            if isinstance(dest, list):
                _set_element(dest, MISSING, valid_keys, valid_values)
            continue
        if isinstance(merged, dict):
            for key, value in zip(valid_keys, valid_values, strict=True):
                merged.setdefault(key, value)
        _set_element(items, merged, valid_keys, valid_values)
    source = dest
    for values in seen:
        valid_keys, _ = _valid_keys(values, keys)
        if isinstance(source, list):
            _append_list(items, source, valid_keys)
        source = items
    return items


def _merge_primitives(dest: Any, patch: Any, sources: list[list[Any]]) -> Any:
    values: list[str] = []
    for source in sources:
        for item in source:
            value = _scalar_text(item)
            if value not in values:
                values.append(value)
    items: list[Any] = []
    for value in values:
        in_patch = _find(patch, [""], [value]) if isinstance(patch, list) else MISSING
        chosen = (
            in_patch
            if in_patch is not MISSING
            else (_find(dest, [""], [value]) if isinstance(dest, list) else MISSING)
        )
        if chosen is MISSING or chosen is None:
            if isinstance(dest, list):
                _set_element(dest, MISSING, [""], [value])
            continue
        _set_element(items, chosen, [""], [value])
    if isinstance(dest, list):
        _append_list(items, dest, [""])
    return items


def _merge_multi_key(dest: Any, patch: Any, keys: tuple[str, ...], schema: _Schema | None) -> Any:
    """Lists merged on several keys (ports on port and protocol), as kustomize v5.8 does.

    Measured, not derived: a patch element whose keys all equal those of an element of the object
    merges into it in place; one that agrees only on the keys one of the two sets is dropped; the
    others go first, in patch order, followed by the object's elements in their order.
    """
    dest_list = dest if isinstance(dest, list) else []
    patch_list = patch if isinstance(patch, list) else []
    new: list[Any] = []
    for element in patch_list:
        full = _key_values(element, keys)
        same = [d for d in dest_list if _key_values(d, keys) == full]
        if same:
            index = next(i for i, d in enumerate(dest_list) if d is same[0])
            merged = _walk(same[0], element, schema)
            if merged is CLEAR or merged is None or merged is MISSING:
                del dest_list[index]
            else:
                dest_list[index] = merged
            continue
        if any(_partial_match(d, element, keys) for d in dest_list):
            continue
        merged = _walk(MISSING, element, schema)
        if merged is not CLEAR and merged is not None and merged is not MISSING:
            new.append(merged)
    return [*new, *dest_list]


def _partial_match(a: Any, b: Any, keys: tuple[str, ...]) -> bool:
    """Whether the keys one element sets all agree with the other's (in either direction)."""
    values_a, values_b = _key_values(a, keys), _key_values(b, keys)
    on_a = all(vb == va for va, vb in zip(values_a, values_b, strict=True) if va)
    on_b = all(va == vb for va, vb in zip(values_a, values_b, strict=True) if vb)
    return on_a or on_b
