"""What helm-controller does to a chart's output before installing it.

Its post-renderer chain, run by Helm 4 on the streams ``spec.postRenderStrategy`` chooses (never on
``crds/``; see :mod:`.release`): each ``spec.postRenderers[].kustomize`` (``patches`` with optional
targets, ``images``, and the deprecated ``patchesStrategicMerge``/``patchesJson6902``) through the
kustomize engine, then ``spec.commonMetadata``, then the origin labels ``helm.toolkit.fluxcd.io/name``
and ``/namespace`` (which helm-controller also puts on the CRDs it applies itself). At install time Helm
puts namespaced objects that name no namespace into the release namespace.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..errors import KustomizeError, RenderError, Where
from ..kustomize.fieldspec import default_config
from ..kustomize.kfile import ImageSpec, PatchSpec, Selector
from ..kustomize.patches import LoadedPatch, apply, classify, from_spec
from ..kustomize.resid import Res
from ..kustomize.transformers import TransformError, set_images
from ..model.base import Origin
from ..model.flux import FLUX_HELM_GROUP
from ..model.kinds import CLUSTER_SCOPED_KINDS

NAME_LABEL = f"{FLUX_HELM_GROUP}/name"
NAMESPACE_LABEL = f"{FLUX_HELM_GROUP}/namespace"


def post_render(
    objects: Sequence[dict[str, Any]],
    renderers: Sequence[Mapping[str, Any]],
    *,
    where: str,
) -> list[dict[str, Any]]:
    """Run the ``postRenderers`` over one stream of objects."""
    if not objects:
        return list(objects)
    resources = [Res(obj, Origin(where, 0, i)) for i, obj in enumerate(objects)]
    for number, renderer in enumerate(renderers):
        spec = renderer.get("kustomize")
        if not isinstance(spec, dict):
            continue
        at = f"{where} postRenderers[{number}].kustomize"
        try:
            resources = _kustomize(resources, spec, at)
        except KustomizeError as exc:
            raise RenderError(f"{at}: {exc.message}", hint=exc.hint) from None
    return [res.obj for res in resources]


def _kustomize(resources: list[Res], spec: Mapping[str, Any], at: str) -> list[Res]:
    for index, entry in enumerate(_list(spec.get("patchesStrategicMerge"))):
        where = Where(f"{at}.patchesStrategicMerge[{index}]")
        if isinstance(entry, dict):
            docs: tuple[dict[str, Any], ...] = (entry,)
        else:
            docs, _ = classify(str(entry), where)
        resources = apply(resources, LoadedPatch(where=where, strategic=docs))
    for index, entry in enumerate(_list(spec.get("patches"))):
        if not isinstance(entry, dict):
            continue
        where = Where(f"{at}.patches[{index}]")
        text = entry.get("patch")
        if not isinstance(text, str) or not text.strip():
            raise KustomizeError("a patch has no 'patch' text", where=where, hint="write the patch inline")
        target = _selector(entry.get("target"))
        patch_spec = PatchSpec(section="patches", index=index, patch=text, target=target)
        resources = apply(resources, from_spec(patch_spec, text, where))
    for index, entry in enumerate(_list(spec.get("patchesJson6902"))):
        if not isinstance(entry, dict):
            continue
        where = Where(f"{at}.patchesJson6902[{index}]")
        ops = entry.get("patch")
        target = _selector(entry.get("target"))
        if not isinstance(ops, list) or target is None:
            raise KustomizeError("a JSON 6902 patch needs a target and a list of operations", where=where)
        resources = apply(resources, LoadedPatch(where=where, json_ops=tuple(ops), target=target))
    image_specs = default_config().images
    for index, entry in enumerate(_list(spec.get("images"))):
        if not isinstance(entry, dict) or not entry.get("name"):
            continue
        image = ImageSpec(
            index=index,
            name=str(entry.get("name")),
            new_name=_text(entry.get("newName")),
            new_tag=_text(entry.get("newTag")),
            digest=_text(entry.get("digest")),
        )
        try:
            set_images(resources, image, image_specs)
        except TransformError as exc:
            raise KustomizeError(str(exc), where=Where(f"{at}.images[{index}]")) from None
    return resources


def _selector(target: Any) -> Selector | None:
    if not isinstance(target, dict):
        return None
    return Selector(
        group=_text(target.get("group")),
        version=_text(target.get("version")),
        kind=_text(target.get("kind")),
        name=_text(target.get("name")),
        namespace=_text(target.get("namespace")),
        label_selector=_text(target.get("labelSelector")),
        annotation_selector=_text(target.get("annotationSelector")),
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# -- metadata ---------------------------------------------------------------------------------------


def add_metadata(
    obj: dict[str, Any], labels: Mapping[str, str] = {}, annotations: Mapping[str, str] = {}
) -> dict[str, Any]:
    """A copy of ``obj`` (top level and metadata) with labels and annotations added, overriding."""
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    for key, extra in (("labels", labels), ("annotations", annotations)):
        if extra:
            merged = dict(meta.get(key) or {})
            merged.update(extra)
            meta[key] = merged
    out["metadata"] = meta
    return out


def common_metadata(spec: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """``spec.commonMetadata`` labels and annotations."""
    common = spec.get("commonMetadata")
    if not isinstance(common, dict):
        return {}, {}
    out: list[dict[str, str]] = []
    for key in ("labels", "annotations"):
        value = common.get(key)
        out.append({str(k): _text(v) for k, v in value.items()} if isinstance(value, dict) else {})
    return out[0], out[1]


def origin_labels(name: str, namespace: str) -> dict[str, str]:
    return {NAME_LABEL: name, NAMESPACE_LABEL: namespace}


def cluster_scoped_kinds(crds: Iterable[Mapping[str, Any]]) -> frozenset[tuple[str, str]]:
    """(group, kind) of the custom kinds that these CRDs declare cluster-scoped."""
    out = set()
    for crd in crds:
        spec = crd.get("spec")
        if crd.get("kind") == "CustomResourceDefinition" and isinstance(spec, dict):
            names = spec.get("names")
            if spec.get("scope") == "Cluster" and isinstance(names, dict) and names.get("kind"):
                out.add((str(spec.get("group", "")), str(names["kind"])))
    return frozenset(out)


def fill_namespace(
    obj: dict[str, Any], namespace: str, custom_cluster_scoped: frozenset[tuple[str, str]]
) -> dict[str, Any]:
    """``obj`` with ``metadata.namespace`` set when the kind is namespaced and names none."""
    kind = str(obj.get("kind", ""))
    api = str(obj.get("apiVersion", ""))
    group = api.rsplit("/", 1)[0] if "/" in api else ""
    meta = obj.get("metadata")
    if isinstance(meta, dict) and meta.get("namespace"):
        return obj
    if kind in CLUSTER_SCOPED_KINDS or (group, kind) in custom_cluster_scoped:
        return obj
    new_meta: dict[str, Any] = {}
    for key, value in (meta if isinstance(meta, dict) else {}).items():
        if key != "namespace":
            new_meta[key] = value
        if key == "name":
            new_meta["namespace"] = namespace
    new_meta.setdefault("namespace", namespace)
    out = dict(obj)
    out["metadata"] = new_meta
    return out
