"""The entry point: build one folder of a repository, natively or, for unsupported features, with
``kubectl kustomize``; Flux's overrides applied to the root kustomization first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import KustomizeError, UnsupportedFeature, Where
from ..load.tree import SourceTree, normalize
from ..model.base import Resource
from ..records import NamedTuple
from . import fluxgen, kfile
from .engine import Builder
from .kfile import ImageSpec, Kustomization, PatchSpec, Selector
from .loader import Loader, path_kind


class Overrides(NamedTuple):
    """What Flux's kustomize-controller writes into the root kustomization before building."""

    namespace: str | None = None
    """``spec.targetNamespace``: replaces the kustomization's ``namespace``."""
    patches: tuple[Mapping[str, Any], ...] = ()
    """``spec.patches`` (``{patch: str, target: {...}}``), appended to ``patches``."""
    images: tuple[Mapping[str, Any], ...] = ()
    """``spec.images`` (name, newName, newTag, digest): replace the entry of the same name, or append."""
    components: tuple[str, ...] = ()
    """``spec.components``, relative to the built folder, appended to ``components``."""
    name_prefix: str | None = None
    name_suffix: str | None = None


class BuildResult(NamedTuple):
    resources: list[Resource]
    """The objects, in build order; ``origin`` is the file and document each came from (generated
    objects: the kustomization file and the line of the generator entry)."""
    files: frozenset[str]
    """Every repo-relative file the build read."""
    fallback: str | None
    """None, or the unsupported feature that made the build fall back to ``kubectl kustomize``."""


def build(
    tree: SourceTree,
    path: str,
    *,
    overrides: Overrides | None = None,
    flux: bool = False,
    fallback: bool = True,
    offline: bool = False,
) -> BuildResult:
    """Build the folder ``path`` (repo-relative) as ``kubectl kustomize`` would, or with ``flux=True``
    as Flux's kustomize-controller would (generated kustomization, LoadRestrictionsNone).
    ``offline``: remote bases only from homeops' cache, never the network.

    Raises :class:`~homeops.errors.KustomizeError` naming the kustomization file and line.
    """
    rel = normalize(path.strip("/") if path not in ("", ".", "/") else "")
    if rel is None:
        raise KustomizeError(f"{path} is outside the repository", hint="give a folder inside the repository")
    loader = Loader(tree, flux=flux)
    root: Kustomization | None = None
    try:
        root = _root(tree, loader, rel, flux)
        if overrides is not None:
            root = _apply_overrides(root, overrides)
        # Empty: nothing but a generated kustomization's defaults (extra_lines only places entries).
        if root.generated and root == Kustomization(
            root.path, root.directory, generated=True, extra_lines=root.extra_lines
        ):
            raise KustomizeError(
                f"{rel or '.'} has no YAML file: the kustomization Flux generates for it is empty, "
                "and kustomize refuses an empty kustomization",
                where=Where(rel),
                hint="add the folder's manifests, or point the Flux Kustomization at the right path",
            )
        resources = Builder(tree, loader, flux=flux, offline=offline).build(root)
    except UnsupportedFeature as exc:
        if not fallback:
            raise
        return _fallback(tree, loader, rel, root, overrides, flux, exc, offline)
    return BuildResult(
        [Resource(res.obj, res.origin) for res in resources],
        frozenset(loader.files),
        None,
    )


def _root(tree: SourceTree, loader: Loader, rel: str, flux: bool) -> Kustomization:
    kind = path_kind(tree, rel)
    if kind == "file":
        if not flux:
            raise KustomizeError(
                f"{rel} is a file; kustomize builds folders",
                where=Where(rel),
                hint="give the folder that holds the kustomization.yaml",
            )
        directory, _, name = rel.rpartition("/")
        return Kustomization(path=rel, directory=directory, generated=True, resources=(name,))
    if kind != "dir":
        raise KustomizeError(
            f"{rel or '.'} does not exist in the repository",
            where=Where(rel),
            hint="give a folder of the repository",
        )
    found = kfile.find(tree, rel)
    if found is not None:
        loader.files.add(found)
        return kfile.load(tree, found, rel)
    if flux:
        return fluxgen.generate(tree, loader, rel)
    raise KustomizeError(
        f"{rel or '.'} has no kustomization.yaml",
        where=Where(rel),
        hint="add a kustomization.yaml, or build with Flux semantics (--flux), which generates one",
    )


def _apply_overrides(root: Kustomization, overrides: Overrides) -> Kustomization:
    extra = dict(root.extra_lines)
    patches = list(root.patches)
    for patch in overrides.patches:
        index = len(patches)
        extra[("patches", index)] = 0
        patches.append(_override_patch(root, patch, index))
    images = list(root.images)
    for image in overrides.images:
        spec = ImageSpec(
            index=0,
            name=_str(image.get("name")),
            new_name=_str(image.get("newName")),
            new_tag=_str(image.get("newTag")),
            digest=_str(image.get("digest")),
        )
        for i, have in enumerate(images):
            if have.name == spec.name:
                images[i] = spec._replace(index=have.index)
                break
        else:
            spec = spec._replace(index=len(images))
            extra[("images", spec.index)] = 0
            images.append(spec)
    components = list(root.components)
    for component in overrides.components:
        extra[("components", len(components))] = 0
        components.append(component)
    changes: dict[str, Any] = {
        "patches": tuple(patches),
        "images": tuple(images),
        "components": tuple(components),
        "extra_lines": extra,
    }
    if overrides.namespace is not None:
        changes["namespace"] = overrides.namespace
    if overrides.name_prefix is not None:
        changes["name_prefix"] = overrides.name_prefix
    if overrides.name_suffix is not None:
        changes["name_suffix"] = overrides.name_suffix
    return root._replace(**changes)


def _override_patch(root: Kustomization, patch: Mapping[str, Any], index: int) -> PatchSpec:
    target = patch.get("target")
    selector = None
    if target is not None:
        if not isinstance(target, Mapping):
            raise KustomizeError("a Flux patch target must be a mapping", where=Where(root.path))
        selector = Selector(
            group=_str(target.get("group")),
            version=_str(target.get("version")),
            kind=_str(target.get("kind")),
            name=_str(target.get("name")),
            namespace=_str(target.get("namespace")),
            label_selector=_str(target.get("labelSelector")),
            annotation_selector=_str(target.get("annotationSelector")),
        )
    return PatchSpec(section="patches", index=index, patch=_str(patch.get("patch")), target=selector)


def _str(value: Any) -> str:
    return "" if value is None else str(value)


# -- fallback ----------------------------------------------------------------------------------------


def _fallback(
    tree: SourceTree,
    loader: Loader,
    rel: str,
    root: Kustomization | None,
    overrides: Overrides | None,
    flux: bool,
    feature: UnsupportedFeature,
    offline: bool,
) -> BuildResult:
    from . import fallback  # rarely needed, and it brings in subprocess handling

    found = kfile.find(tree, rel) if path_kind(tree, rel) == "dir" else None
    origin_path = found or rel
    raw: dict[str, Any] | None = None
    directory = rel
    if found is None:
        # A generated (or single-file) kustomization: write it out.
        generated = root if root is not None else fluxgen.generate(tree, loader, rel)
        directory = generated.directory
        raw = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": list(generated.resources),
        }
    elif overrides is not None:
        raw = fallback.raw_kustomization(tree, found)
    if raw is not None and overrides is not None:
        raw = _raw_overrides(raw, overrides)
    resources = fallback.kubectl_build(
        tree,
        directory,
        flux=flux,
        kustomization=raw,
        origin_path=origin_path,
        feature=feature,
        offline=offline,
    )
    files = set(loader.files)
    if found is not None:
        files.add(found)
    return BuildResult(resources, frozenset(files), feature.feature)


def _raw_overrides(raw: dict[str, Any], overrides: Overrides) -> dict[str, Any]:
    """Flux's changes to the kustomization file, on its raw mapping."""
    out = dict(raw)
    if overrides.namespace is not None:
        out["namespace"] = overrides.namespace
    if overrides.name_prefix is not None:
        out["namePrefix"] = overrides.name_prefix
    if overrides.name_suffix is not None:
        out["nameSuffix"] = overrides.name_suffix
    if overrides.patches:
        out["patches"] = [*(out.get("patches") or []), *(dict(p) for p in overrides.patches)]
    if overrides.images:
        images = [dict(i) for i in out.get("images") or []]
        for image in overrides.images:
            entry = {k: v for k, v in image.items() if k in ("name", "newName", "newTag", "digest") and v}
            for i, have in enumerate(images):
                if have.get("name") == entry.get("name"):
                    images[i] = entry
                    break
            else:
                images.append(entry)
        out["images"] = images
    if overrides.components:
        out["components"] = [*(out.get("components") or []), *overrides.components]
    return out
