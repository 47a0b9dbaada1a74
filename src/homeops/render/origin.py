"""Where a value of a HelmRelease's values was set, to report a schema violation at its line.

The values Helm validates are the chart's defaults with the release's on top; a value comes from, by
precedence, a ``valuesFrom`` entry with ``targetPath`` that sets it, the inline ``spec.values``, the
last ``valuesFrom`` document that holds it, or the chart's own defaults. The line is that of the value
in the HelmRelease's file (or of the entry, the ConfigMap or Secret, or ``spec.chart`` for a default).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import RenderError, Where
from ..model.base import Resource
from ..model.flux import HelmRelease
from ..records import NamedTuple
from .strvals import StrvalsError, set_path_value
from .validation import Path, Violation, display_path
from .values import MergedValues

ReadFile = Callable[[str], bytes]
_SHOWN = 5
"""Violations named in one error; the rest are counted."""


class ValueOrigin(NamedTuple):
    where: Where
    what: str
    """``spec.values``, ``valuesFrom[1] (Secret app key 'tag', targetPath image.tag)``, …"""


def schema_error(
    release: HelmRelease, violations: Sequence[Violation], merged: MergedValues, read: ReadFile | None
) -> RenderError:
    """The error for values that break the chart's schema, located at the first offending value."""
    lines = []
    first: Where | None = None
    for violation in violations[:_SHOWN]:
        origin = value_origin(release, violation.path, merged, read)
        first = first or origin.where
        lines.append(
            f"{display_path(violation.path)}: {violation.reason} (the {violation.chart} schema; set in "
            f"{origin.what} at {origin.where})"
        )
    if len(violations) > _SHOWN:
        lines.append(f"and {len(violations) - _SHOWN} more")
    who = f"HelmRelease {release.namespace}/{release.name}"
    return RenderError(
        f"{who}: values do not match the chart's values.schema.json: " + "; ".join(lines),
        where=first,
        hint="fix the value where it is set: helm-controller refuses these values too",
    )


def value_origin(
    release: HelmRelease, path: Path, merged: MergedValues, read: ReadFile | None
) -> ValueOrigin:
    res = release.res
    for part in reversed(merged.parts):
        target = _target_path(part.ref.target_path)
        if target is not None and _related(target, path):
            what = (f"valuesFrom[{part.index}] ({part.ref.kind} {part.ref.name} key {part.ref.values_key!r}, "
                    f"targetPath {part.ref.target_path})")  # fmt: skip
            return ValueOrigin(_where(res, ("spec", "valuesFrom", part.index), read), what)
    inline = _held(release.values, path)
    if inline:
        return ValueOrigin(_where(res, ("spec", "values", *path[:inline]), read), "spec.values")
    for part in reversed(merged.parts):
        if part.document is not None and _held(part.document, path):
            what = f"valuesFrom[{part.index}] ({part.ref.kind} {part.ref.name} key {part.ref.values_key!r})"
            if part.origin is not None:
                return ValueOrigin(Where(part.origin.path, part.origin.line), what)
            return ValueOrigin(_where(res, ("spec", "valuesFrom", part.index), read), what)
    chart_field = "chartRef" if "chartRef" in release.spec else "chart"
    return ValueOrigin(_where(res, ("spec", chart_field), read), "the chart's default values")


def _target_path(target: str | None) -> Path | None:
    """The values path a ``targetPath`` writes (parsed by Helm's --set grammar)."""
    if not target:
        return None
    probe: dict[str, Any] = {}
    try:
        set_path_value(probe, target, "x", literal=True)
    except StrvalsError:
        return None
    path: list[str | int] = []
    node: Any = probe
    while isinstance(node, dict | list) and node:
        if isinstance(node, dict):
            key = next(iter(node))
            path.append(key)
            node = node[key]
        else:
            index = max(i for i, item in enumerate(node) if item is not None)
            path.append(index)
            node = node[index]
    return tuple(path)


def _related(one: Path, other: Path) -> bool:
    """One path lies on the other (a value set at ``one`` is, or holds, the value at ``other``)."""
    shorter = min(len(one), len(other))
    return one[:shorter] == other[:shorter]


def _held(values: Mapping[str, Any], path: Path) -> int:
    """How many leading parts of ``path`` exist in ``values`` (0: none)."""
    node: Any = values
    depth = 0
    for part in path:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            break
        depth += 1
    return depth


def _where(res: Resource, path: Sequence[str | int], read: ReadFile | None) -> Where:
    from ..load import yamlio

    line = res.origin.line
    if read is not None:
        try:
            nodes = yamlio.compose(yamlio.decode(read(res.origin.path)), tags=False)
        except (OSError, UnicodeDecodeError):
            nodes = []
        if res.origin.index < len(nodes):
            line = yamlio.locate(nodes[res.origin.index], path)
    return Where(res.origin.path, line)
