"""The values a HelmRelease installs its chart with, merged in helm-controller's order.

``valuesFrom`` entries in order (each a ConfigMap or Secret key: a YAML document merged in, or with
``targetPath`` one value set with Helm's ``--set`` parser), then the inline ``values``. Merging is
fluxcd/pkg's ``MergeMaps``: mappings merge key by key, anything else replaces, and nested mappings are
shared, not copied. That sharing is what makes "targetPath overwrites everything before, including
inline values" true in helm-controller: before setting a ``targetPath`` it merges the inline values in,
so the value lands in mappings (and lists) that belong to the inline values themselves, and the final
merge of the inline values carries it. Where the path runs through a mapping the two did not share, the
inline value wins; this module does the same, on its own copy of the inline values. The chart's own
defaults (or the ``valuesFiles`` that source-controller puts in their place) are applied by Helm when
the chart is rendered.

The ConfigMaps and Secrets are looked up through a :class:`ValuesSource` (the cluster's objects, with
SOPS decryption or placeholders), so this module never sees how secrets are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import RenderError
from ..load.yamlio import HELM, parse
from ..model.base import Origin, deep_copy, merge_maps
from ..model.flux import HelmRelease, ValuesReference
from .strvals import StrvalsError, set_path_value


@dataclass(frozen=True, slots=True)
class ValuesData:
    """One key of a ConfigMap or Secret, as a ``valuesFrom`` entry reads it."""

    text: str | None
    """The value; None when the object exists but the key does not."""
    placeholder: str | None = None
    """Set when ``text`` stands in for a value that could not be read (SOPS without a key)."""
    decrypted: bool = False
    """The value came out of a SOPS decryption (never cache what it produced)."""
    origin: Origin | None = None
    """Where the ConfigMap or Secret is defined (for messages about its values)."""


class ValuesSource(Protocol):
    def lookup(self, kind: str, namespace: str, name: str, key: str) -> ValuesData | None:
        """The key of the object, or None when the object does not exist."""


@dataclass(frozen=True, slots=True)
class ValuesPart:
    """One ``valuesFrom`` entry as it went into the values (to say where a value came from)."""

    index: int
    ref: ValuesReference
    document: Mapping[str, Any] | None
    """The document merged in; None for a ``targetPath`` entry."""
    origin: Origin | None


@dataclass(slots=True)
class MergedValues:
    values: dict[str, Any]
    placeholders: list[str] = field(default_factory=list)
    """What could not be read and was replaced by a marked placeholder (or left out)."""
    decrypted: bool = False
    parts: list[ValuesPart] = field(default_factory=list)


def release_values(release: HelmRelease, source: ValuesSource) -> MergedValues:
    """The values for ``release``: each ``valuesFrom`` in order, then inline ``values`` on top (below a
    ``targetPath`` value written through a mapping shared with them)."""
    inline = deep_copy(release.values)  # written through by targetPath, as helm-controller's own copy is
    result: dict[str, Any] = {}
    merged = MergedValues(result)
    for index, ref in enumerate(release.values_from):
        if ref.kind not in ("ConfigMap", "Secret"):
            raise RenderError(
                f"valuesFrom kind {ref.kind!r} is not supported (ConfigMap or Secret)",
                hint="helm-controller fails this HelmRelease too",
            )
        found = source.lookup(ref.kind, release.namespace, ref.name, ref.values_key)
        if found is None or found.text is None:
            if ref.optional:
                continue
            what = f"{ref.kind} {release.namespace}/{ref.name}"
            if found is None:
                raise RenderError(
                    f"valuesFrom: {what} is not applied by any Kustomization of the cluster",
                    hint="add it to a Kustomization, fix the name, or mark the entry optional: true",
                )
            raise RenderError(
                f"valuesFrom: {what} has no key {ref.values_key!r}",
                hint="fix valuesKey, or mark the entry optional: true",
            )
        merged.decrypted = merged.decrypted or found.decrypted
        if found.placeholder is not None:
            merged.placeholders.append(found.placeholder)
            if ref.target_path is None:
                continue  # an unreadable document: nothing to merge
        result, document = _apply(result, inline, ref, found.text, release)
        merged.parts.append(ValuesPart(index, ref, document, found.origin))
    merged.values = merge_maps(result, inline)
    return merged


def _apply(
    result: dict[str, Any], inline: dict[str, Any], ref: ValuesReference, text: str, release: HelmRelease
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    what = f"valuesFrom {ref.kind} {release.namespace}/{ref.name} key {ref.values_key!r}"
    if ref.target_path:
        result = merge_maps(result, inline)
        try:
            set_path_value(result, ref.target_path, text, literal=ref.literal)
        except StrvalsError as exc:
            raise RenderError(
                f"{what}: cannot set targetPath {ref.target_path!r}: {exc}",
                hint="targetPath uses Helm's --set syntax (a.b[0].c); commas in the value need quoting",
            ) from None
        return result, None
    parsed = parse(text, schema=HELM)  # helm-controller reads valuesFrom with sigs.k8s.io/yaml
    if parsed.failure is not None:
        raise RenderError(f"{what} is not valid YAML: {parsed.failure.reason} (line {parsed.failure.line})")
    doc = parsed.documents[0] if parsed.documents else None
    if doc is None:
        return result, None
    if not isinstance(doc, dict):
        raise RenderError(f"{what} is not a mapping of values", hint="the key must hold a YAML mapping")
    return merge_maps(result, doc), doc
