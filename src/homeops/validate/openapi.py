"""OpenAPI schemas (Kubernetes definitions, CRD schemas) → JSON Schema, as the API server reads them.

The API server's rules that plain JSON Schema does not say by itself:

* unknown fields: server-side apply (what Flux uses) rejects a field the structural schema does not
  declare ("field not declared in schema"), so objects are closed (``additionalProperties: false``)
  unless ``x-kubernetes-preserve-unknown-fields`` keeps them open; an object with neither properties nor
  additionalProperties holds no field at all;
* ``x-kubernetes-int-or-string``: an integer or a string; ``x-kubernetes-embedded-resource``: the object
  may hold ``apiVersion``, ``kind`` and ``metadata``;
* ``null``: allowed where ``nullable``; elsewhere in a CRD the API server prunes it before validating,
  so a null is never a type error; built-in fields are pointers that accept null;
* ``format: int32``/``int64`` bound the integer; other formats are not checked (Kubernetes' own format
  set differs from JSON Schema's: its ``duration`` is Go's ``1h30m``, not ISO 8601);
* every custom resource's ``metadata`` is validated as the API server does, as ``ObjectMeta``;
* CEL rules (``x-kubernetes-validations``) are not evaluated.

Descriptions are dropped: the cache keeps only what validation reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_KEPT = {
    "enum",
    "required",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "multipleOf",
}

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    """A reference to a definition (JSON pointer: ``/`` in a name is ``~1``)."""
    return {"$ref": "#/$defs/" + name.replace("~", "~0").replace("/", "~1")}


def kind_key(api_version: str, kind: str) -> str:
    """The catalog's key of one kind: ``apps/v1/Deployment``, ``v1/ConfigMap``."""
    return f"{api_version}/{kind}"


# -- built-in definitions -----------------------------------------------------------------------


def core_bundle(definitions: dict[str, Any]) -> dict[str, Any]:
    """The ``$defs`` of a ``_definitions.json`` → {"defs": converted, "kinds": {kind key: def name}}."""
    defs = {name: _core(schema) for name, schema in definitions.items()}
    kinds: dict[str, str] = {}
    for name, schema in definitions.items():
        gvks = schema.get("x-kubernetes-group-version-kind")
        if not isinstance(gvks, list) or len(gvks) != 1:
            continue  # DeleteOptions, WatchEvent…: not objects anyone applies
        gvk = gvks[0]
        api_version = f"{gvk['group']}/{gvk['version']}" if gvk.get("group") else str(gvk["version"])
        kinds[kind_key(api_version, str(gvk["kind"]))] = name
    return {"defs": defs, "kinds": kinds}


def _core(node: Any) -> Any:
    if isinstance(node, list):
        return [_core(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: Schema = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = "#/$defs/" + value.rsplit("/", 1)[-1]
        elif key == "oneOf":
            # int-or-string and quantities list {string|null} and {integer|null}: a null matches both
            # branches, which oneOf would reject; the API server accepts either
            out["anyOf"] = _core(value)
        elif key in ("properties", "$defs"):
            out[key] = {name: _core(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "anyOf", "allOf", "type"):
            out[key] = _core(value)
        elif key == "format":
            _bound(out, value)
        elif key in _KEPT:
            out[key] = value
    return out


def _bound(out: Schema, fmt: Any) -> None:
    bounds = _INT_RANGES.get(fmt) if isinstance(fmt, str) else None
    if bounds is not None:
        out.setdefault("minimum", bounds[0])
        out.setdefault("maximum", bounds[1])


# -- CustomResourceDefinitions ------------------------------------------------------------------


def crd_kinds(crd: dict[str, Any]) -> Iterable[tuple[str, Schema]]:
    """(kind key, root schema) for every version of a CRD that has a schema (v1 and v1beta1 CRDs)."""
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return
    group = spec.get("group")
    names = spec.get("names")
    kind = names.get("kind") if isinstance(names, dict) else None
    if not isinstance(group, str) or not isinstance(kind, str):
        return
    shared = spec.get("validation")  # apiextensions.k8s.io/v1beta1: one schema for every version
    versions = spec.get("versions")
    if not isinstance(versions, list):
        versions = [{"name": spec.get("version")}] if spec.get("version") else []
    for version in versions:
        if not isinstance(version, dict) or not isinstance(version.get("name"), str):
            continue
        schema_holder = version.get("schema") or shared
        raw = schema_holder.get("openAPIV3Schema") if isinstance(schema_holder, dict) else None
        if isinstance(raw, dict):
            yield kind_key(f"{group}/{version['name']}", kind), crd_root(raw)


def crd_root(schema: dict[str, Any]) -> Schema:
    """A CRD version's ``openAPIV3Schema`` as the API server validates an object of it."""
    root = convert(schema)
    properties = dict(root.get("properties") or {})
    # apiVersion, kind and metadata are implicit in every custom resource; metadata is ObjectMeta
    properties["apiVersion"] = {"type": "string"}
    properties["kind"] = {"type": "string"}
    properties["metadata"] = ref(OBJECT_META)
    root["properties"] = properties
    root["type"] = "object"
    return root


def convert(node: Any) -> Schema:
    """One structural schema node → JSON Schema (recursively)."""
    if not isinstance(node, dict):
        return {}
    out: Schema = {}
    types: list[str] = []
    declared = node.get("type")
    if node.get("x-kubernetes-int-or-string"):
        types = ["integer", "string"]
    elif isinstance(declared, str):
        types = [declared]
    for key, value in node.items():
        if key == "enum" and isinstance(value, list):
            out[key] = [*value, None] if None not in value else value  # a null is pruned, see above
        elif key in _KEPT:
            out[key] = value
        elif key == "format":
            _bound(out, value)
        elif key in ("exclusiveMinimum", "exclusiveMaximum"):
            # OpenAPI v3.0 flags the bound as exclusive; JSON Schema 2020-12 gives the bound itself
            bound = node.get("minimum" if key == "exclusiveMinimum" else "maximum")
            if value is True and bound is not None:
                out[key] = bound
        elif key == "items" and isinstance(value, dict):
            out["items"] = convert(value)
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            out[key] = [convert(item) for item in value]
        elif key == "not" and isinstance(value, dict):
            out["not"] = convert(value)
    open_object = bool(node.get("x-kubernetes-preserve-unknown-fields"))
    properties = node.get("properties")
    extra = node.get("additionalProperties")
    is_object = declared == "object" or isinstance(properties, dict) or isinstance(extra, dict | bool)
    if is_object:
        props = {name: convert(sub) for name, sub in (properties or {}).items() if isinstance(name, str)}
        if node.get("x-kubernetes-embedded-resource"):
            props.setdefault("apiVersion", {"type": "string"})
            props.setdefault("kind", {"type": "string"})
            props.setdefault("metadata", {"type": "object"})
        if isinstance(extra, dict):
            out["additionalProperties"] = convert(extra)
        elif extra is not True and not open_object:
            # closed, even with no properties at all (``type: object`` alone holds no field); the
            # (empty) properties keep the error one that names the unexpected fields
            out["properties"] = props
            out["additionalProperties"] = False
        if props:
            out["properties"] = props
    if types:
        # a null is pruned (or nullable): never a type error
        out["type"] = [*types, "null"]
    return out
