"""What HelmRelease values mean, for the shapes homelab repos use.

The bjw-s app-template chart (``controllers.*.containers.*``, ``persistence.*``, ``route.*``) is read
structurally; for other charts only the common ``image: {repository, tag}`` shape is recognised.
Simple Helm templating in values (``{{ .Release.Name }}``, ``{{ .Release.Namespace }}``) is resolved
so that references can be checked; anything more complex is reported as unresolved (None).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..records import NamedTuple
from .base import Resource
from .flux import HelmRelease

Path = tuple[str | int, ...]

PIN_MARKER = "homeops: pin digest"
"""Comment text homeops writes next to an image tag whose digest it could not know (rule IMG003)."""

_RELEASE_EXPR = re.compile(r"\{\{-?\s*\.Release\.(Name|Namespace)\s*-?\}\}")


def resolve_template(text: str, release: str, namespace: str) -> str | None:
    """``text`` with ``{{ .Release.Name/Namespace }}`` resolved; None if other templating remains."""
    if "{{" not in text:
        return text
    out = _RELEASE_EXPR.sub(lambda m: release if m.group(1) == "Name" else namespace, text)
    return None if "{{" in out else out


class ImageRef(NamedTuple):
    """A container image reference split into its parts."""

    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        digest = None
        if "@" in text:
            text, digest = text.split("@", 1)
        name, tag = text, None
        slash = text.rfind("/")
        colon = text.rfind(":")
        if colon > slash:
            name, tag = text[:colon], text[colon + 1 :]
        return cls(name, tag or None, digest or None)

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


class ValueImage(NamedTuple):
    """An image found in chart values, with the path of the mapping or string that holds it."""

    path: Path
    image: ImageRef
    explicit_tag: bool
    """Whether a missing tag is a problem: false only for a vendor chart's ``image`` mapping without a
    tag, which falls back to the chart's appVersion (pinned by the chart version)."""


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _image_from(value: Any) -> tuple[ImageRef, bool] | None:
    if isinstance(value, str) and value and " " not in value and "{{" not in value and "${" not in value:
        return ImageRef.parse(value), True
    if isinstance(value, dict):
        repo = value.get("repository")
        if not isinstance(repo, str) or not repo or "{{" in repo:
            return None
        registry = value.get("registry")
        if isinstance(registry, str) and registry and not repo.startswith(registry):
            repo = f"{registry}/{repo}"
        tag = value.get("tag")
        tag_text = str(tag) if tag not in (None, "") else None
        digest = value.get("digest")
        digest_text = str(digest) if isinstance(digest, str) and digest else None
        if tag_text and "@" in tag_text:
            tag_text, embedded = tag_text.split("@", 1)
            digest_text = digest_text or embedded
        return ImageRef(repo, tag_text or None, digest_text), tag_text is not None or digest_text is not None
    return None


Seen = dict[int, tuple[Any, list[tuple[Path, Any]]]]
"""What the containers walked so far hold (see :func:`images`)."""


def images(values: Mapping[str, Any], seen: Seen | None = None) -> Iterator[ValueImage]:
    """Every image in chart values: app-template containers first, then any ``image:`` mapping.

    ``seen``: the ``image`` keys of the containers walked so far, by identity, for a caller walking
    many values that share containers (an overlay's objects share what its patches leave alone with the
    base's, cluster after cluster; YAML aliases): each container is walked once. The values must not
    change meanwhile.
    """
    found_paths: set[Path] = set()
    for path, container in app_template_containers(values):
        found = _image_from(container.get("image"))
        if found is not None:
            found_paths.add((*path, "image"))
            yield ValueImage((*path, "image"), found[0], True)
    for path, value in _image_keys(values, {} if seen is None else seen):
        if path in found_paths:
            continue
        found = _image_from(value)
        if found is not None and isinstance(value, dict):
            yield ValueImage(path, found[0], found[1])


def _image_keys(value: Any, seen: Seen) -> list[tuple[Path, Any]]:
    """(path, value) of every ``image`` key below ``value``, depth first, each container walked once."""
    ident = id(value)
    known = seen.get(ident)
    if known is not None:
        return known[1]
    out: list[tuple[Path, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "image":
                out.append(((key,), item))
            elif isinstance(item, (dict, list)):
                below = _image_keys(item, seen)
                if below:  # (most containers hold none)
                    out.extend(((key, *path), found) for path, found in below)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, (dict, list)):  # (a scalar holds no image key)
                below = _image_keys(item, seen)
                if below:
                    out.extend(((i, *path), found) for path, found in below)
    seen[ident] = (value, out)  # the container kept alive with it: its id stays its own
    return out


def app_template_containers(values: Mapping[str, Any]) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    """(path, container) for every container and init container of every app-template controller."""
    for cname, controller in _map(values.get("controllers")).items():
        if not isinstance(controller, dict):
            continue
        for field in ("containers", "initContainers"):
            group = controller.get(field)
            if isinstance(group, dict):
                for name, container in group.items():
                    if isinstance(container, dict):
                        yield ("controllers", cname, field, name), container
            elif isinstance(group, list):
                for i, container in enumerate(group):
                    if isinstance(container, dict):
                        yield ("controllers", cname, field, i), container


class ValueRef(NamedTuple):
    """An object named in chart values (a Secret, ConfigMap or claim the chart will mount)."""

    kind: str
    """Secret, ConfigMap or PersistentVolumeClaim."""
    name: str
    path: Path
    optional: bool = False
    section: str | None = None
    """``secrets`` or ``configMaps`` when ``name`` may be an identifier of that values section (the chart
    then names the object itself); see :func:`referenced_name`."""


def _env_refs(container: Mapping[str, Any], path: Path) -> Iterator[ValueRef]:
    env_from = container.get("envFrom")
    for i, item in enumerate(env_from if isinstance(env_from, list) else []):
        if not isinstance(item, dict):
            continue
        for key, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
            ref = item.get(key)
            section = "secrets" if kind == "Secret" else "configMaps"
            if isinstance(ref, dict) and isinstance(ref.get("identifier"), str):
                yield ValueRef(
                    kind, ref["identifier"], (*path, "envFrom", i, key, "identifier"), False, section
                )
            elif isinstance(ref, dict) and isinstance(ref.get("name"), str):
                yield ValueRef(
                    kind, ref["name"], (*path, "envFrom", i, key, "name"), ref.get("optional") is True
                )
        for key, kind in (("secret", "Secret"), ("configMap", "ConfigMap")):
            if isinstance(item.get(key), str):
                section = "secrets" if kind == "Secret" else "configMaps"
                yield ValueRef(
                    kind, item[key], (*path, "envFrom", i, key), item.get("optional") is True, section
                )
    env = container.get("env")
    items: list[tuple[str | int, Any]] = []
    if isinstance(env, dict):
        items = list(env.items())
    elif isinstance(env, list):
        items = list(enumerate(env))
    for env_key, item in items:
        if not isinstance(item, dict):
            continue
        source = item.get("valueFrom")
        for ref_key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
            ref = _map(source).get(ref_key) if isinstance(source, dict) else item.get(ref_key)
            if isinstance(ref, dict) and isinstance(ref.get("name"), str):
                optional = ref.get("optional") is True
                sub = ("valueFrom", ref_key) if isinstance(source, dict) else (ref_key,)
                yield ValueRef(kind, ref["name"], (*path, "env", env_key, *sub, "name"), optional)


def app_template_refs(values: Mapping[str, Any]) -> Iterator[ValueRef]:
    """Secrets, ConfigMaps and claims an app-template release needs to exist."""
    for path, container in app_template_containers(values):
        yield from _env_refs(container, path)
    for name, item in _map(values.get("persistence")).items():
        if not isinstance(item, dict) or item.get("enabled") is False:
            continue
        kind = item.get("type", "persistentVolumeClaim")
        base: Path = ("persistence", name)
        if kind == "persistentVolumeClaim" and isinstance(item.get("existingClaim"), str):
            yield ValueRef("PersistentVolumeClaim", item["existingClaim"], (*base, "existingClaim"))
        elif kind in ("secret", "configMap"):
            ref_kind = "Secret" if kind == "secret" else "ConfigMap"
            section = "secrets" if kind == "secret" else "configMaps"
            if isinstance(item.get("identifier"), str):
                yield ValueRef(ref_kind, item["identifier"], (*base, "identifier"), False, section)
            elif isinstance(item.get("name"), str):
                yield ValueRef(ref_kind, item["name"], (*base, "name"))


class Persistence(NamedTuple):
    """One app-template ``persistence`` entry."""

    name: str
    type: str
    existing_claim: str | None
    storage_class: str | None
    path: Path


def app_template_persistence(values: Mapping[str, Any]) -> Iterator[Persistence]:
    for name, item in _map(values.get("persistence")).items():
        if not isinstance(item, dict) or item.get("enabled") is False:
            continue
        claim = item.get("existingClaim")
        storage_class = item.get("storageClass")
        yield Persistence(
            str(name),
            str(item.get("type", "persistentVolumeClaim")),
            claim if isinstance(claim, str) else None,
            storage_class if isinstance(storage_class, str) else None,
            ("persistence", name),
        )


class RouteParent(NamedTuple):
    name: str
    namespace: str | None
    path: Path


def app_template_route_parents(values: Mapping[str, Any]) -> Iterator[RouteParent]:
    """Gateways named by app-template ``route.*.parentRefs``."""
    for rname, route in _map(values.get("route")).items():
        if not isinstance(route, dict) or route.get("enabled") is False:
            continue
        refs = route.get("parentRefs")
        for i, ref in enumerate(refs if isinstance(refs, list) else []):
            if isinstance(ref, dict) and isinstance(ref.get("name"), str):
                if ref.get("kind", "Gateway") != "Gateway":
                    continue
                namespace = ref.get("namespace")
                yield RouteParent(
                    ref["name"],
                    namespace if isinstance(namespace, str) else None,
                    ("route", rname, "parentRefs", i, "name"),
                )


class IngressValues(NamedTuple):
    """One enabled app-template ``ingress`` entry: what the chart renders an Ingress from."""

    identifier: str
    annotations: Mapping[str, Any]
    tls: bool
    """It has ``tls`` entries (cert-manager's ingress-shim acts only on those)."""


def app_template_ingresses(values: Mapping[str, Any]) -> Iterator[IngressValues]:
    """The Ingresses app-template renders (``ingress.<identifier>``, unless ``enabled: false``)."""
    for identifier, item in enabled_items(values, "ingress").items():
        tls = item.get("tls")
        yield IngressValues(identifier, _map(item.get("annotations")), isinstance(tls, list) and bool(tls))


def is_app_template(chart_name: str | None, source_url: str | None) -> bool:
    """Whether a release uses bjw-s' app-template chart."""
    if chart_name and chart_name.rsplit("/", 1)[-1] == "app-template":
        return True
    return bool(source_url and source_url.rstrip("/").rsplit("/", 1)[-1] == "app-template")


# -- app-template's object names (bjw-s common library 4.x) ------------------------------------------


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def is_app_template_values(values: Mapping[str, Any]) -> bool:
    """app-template's values shape: controllers with containers (no vendor chart uses it)."""
    controllers = values.get("controllers")
    return isinstance(controllers, dict) and any(
        isinstance(c, dict) and ("containers" in c or "initContainers" in c) for c in controllers.values()
    )


def app_template_fullname(values: Mapping[str, Any], release: str) -> str:
    """``bjw-s.common.lib.chart.names.fullname``: app-template sets ``global.nameOverride`` to the
    release name, so without overrides every object is named after the release."""
    glob = values.get("global") if isinstance(values.get("global"), dict) else {}
    assert isinstance(glob, dict)
    full = _str(glob.get("fullnameOverride")) or _str(values.get("fullnameOverride"))
    if full:
        name = full
    else:
        name = _str(glob.get("nameOverride")) or _str(values.get("nameOverride")) or release
        name = name[:63].rstrip("-")
        name = release if name in release else f"{release}-{name}"
    return name[:63].rstrip("-")


def app_template_name(
    values: Mapping[str, Any],
    release: str,
    namespace: str,
    identifier: str,
    item: Mapping[str, Any],
    count: int,
) -> str | None:
    """``bjw-s.common.lib.determineResourceNameFromValues`` for one item (None: a template homeops
    cannot resolve)."""
    fullname = app_template_fullname(values, release)
    glob = values.get("global") if isinstance(values.get("global"), dict) else {}
    assert isinstance(glob, dict)
    force = _str(item.get("forceRename"))
    if force:
        rendered = resolve_template(force, release, namespace)
        return rendered.lower() if rendered is not None else None
    name = fullname
    prefix = _str(item.get("prefix"))
    if prefix:
        rendered = resolve_template(prefix, release, namespace)
        if rendered is None:
            return None
        if rendered != name:
            name = f"{rendered}-{name}"
    if count > 1 or glob.get("alwaysAppendIdentifierToResourceName") is True:
        if not name.endswith(f"-{identifier}") and identifier != name:
            name = f"{name}-{identifier}"
    suffix = _str(item.get("suffix"))
    if suffix:
        rendered = resolve_template(suffix, release, namespace)
        if rendered is None:
            return None
        if not name.endswith(f"-{rendered}"):
            name = f"{name}-{rendered}"
    return name.lower()


def enabled_items(
    values: Mapping[str, Any], section: str, *, claims: bool = False
) -> dict[str, Mapping[str, Any]]:
    """The enabled entries of ``configMaps``, ``secrets`` or (``claims``) the persistence items the
    chart makes a PersistentVolumeClaim for."""
    items = values.get(section)
    out: dict[str, Mapping[str, Any]] = {}
    for identifier, item in items.items() if isinstance(items, dict) else ():
        if not isinstance(item, dict) or item.get("enabled", True) is False:
            continue
        if claims and (
            item.get("type", "persistentVolumeClaim") != "persistentVolumeClaim" or item.get("existingClaim")
        ):
            continue
        out[str(identifier)] = item
    return out


def app_template_identifier_name(
    values: Mapping[str, Any], release: str, namespace: str, section: str, identifier: str
) -> str | None:
    """The object name an identifier of ``configMaps``/``secrets`` stands for (None: no such item)."""
    items = enabled_items(values, section)
    item = items.get(identifier)
    if item is None:
        return None
    return app_template_name(values, release, namespace, identifier, item, len(items))


def referenced_name(ref: ValueRef, values: Mapping[str, Any], release: str, namespace: str) -> str | None:
    """The object name a reference in app-template values stands for: the chart's own name for an
    identifier of its ``secrets``/``configMaps``, else the name written (``{{ .Release.Name }}``
    resolved); None when a template remains."""
    if ref.section is not None:
        found = app_template_identifier_name(values, release, namespace, ref.section, ref.name)
        if found is not None:
            return found
    return resolve_template(ref.name, release, namespace)


def release_value_refs(res: Resource) -> tuple[tuple[ValueRef, str | None], ...]:
    """What a HelmRelease's app-template values reference (:func:`app_template_refs`), each with the
    name it stands for in the release's namespace (:func:`referenced_name`); the graph and the rules
    both ask (through a check's :class:`~homeops.model.base.ObjectMemo`)."""
    release = HelmRelease(res)
    values = release.values
    name, namespace = release.release_name, release.release_namespace or "default"
    return tuple((ref, referenced_name(ref, values, name, namespace)) for ref in app_template_refs(values))
