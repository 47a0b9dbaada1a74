"""The report's pictures as SVG text: the dependency graph (laid out by :mod:`.layout`) and the
bootstrap timeline. Static markup: the page is readable before any script runs; the script only adds
pan, zoom, search and details."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from ...records import NamedTuple
from ...runtime.durations import clock
from .layout import COL_W, NODE_H, NODE_W, Layout, node_key

_KIND_SHORT = {
    "Kustomization": "ks",
    "HelmRelease": "hr",
}

_MAX_NAME = 24


def _short(text: str, limit: int = _MAX_NAME) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def graph_svg(
    nodes: Sequence[Mapping[str, Any]],
    edges: Sequence[Mapping[str, Any]],
    placed: Layout,
    *,
    badges: Mapping[str, tuple[int, str]],
    states: Mapping[str, str],
) -> str:
    """The graph: lanes, then edges, then nodes (so nodes sit on top).

    ``badges``: node key → (number of findings, worst severity); ``states``: node key → live state
    class (``ok``, ``wait``, ``bad``, ``off``, ``missing``)."""
    index = {node_key(n): i for i, n in enumerate(nodes)}
    out = [
        f'<svg id="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {placed.width:.0f} '
        f'{placed.height:.0f}" width="{placed.width:.0f}" height="{placed.height:.0f}" '
        'role="group" aria-label="dependency graph" tabindex="-1">',
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" class="arrowhead"/></marker></defs>',
        '<g id="viewport">',
    ]
    for cluster, y in placed.clusters:
        out.append(f'<text class="cluster-title" x="16" y="{y + 20:.0f}">cluster {escape(cluster)}</text>')
    for lane in placed.lanes:
        out.append(
            f'<g class="lane"><rect x="6" y="{lane.y:.0f}" width="{placed.width - 12:.0f}" '
            f'height="{lane.height:.0f}" rx="10"/><text x="18" y="{lane.y + 17:.0f}">'
            f"{escape(lane.namespace or '(cluster-scoped)')}</text></g>"
        )
    out.append('<g id="edges">')
    fan = _fans(edges)
    for edge in edges:
        source, target = node_key(edge["from"]), node_key(edge["to"])
        if source not in placed.positions or target not in placed.positions:
            continue
        css = f"edge e-{escape(edge['kind'])}{' fan' if target in fan else ''}"
        out.append(
            f'<path class="{css}" data-need="{index[target]}" '
            f'data-user="{index[source]}" d="{_curve(placed, target, source)}" marker-end="url(#arrow)"/>'
        )
    out.append('</g><g id="nodes">')
    for i, node in enumerate(nodes):
        key = node_key(node)
        pos = placed.positions[key]
        kind = str(node["kind"])
        label = (
            f"{kind} {node['namespace']}/{node['name']}" if node["namespace"] else f"{kind} {node['name']}"
        )
        classes = ["node", f"k-{_KIND_SHORT.get(kind, 'src')}"]
        if key in states:
            classes.append(f"s-{states[key]}")
        out.append(
            f'<g class="{" ".join(classes)}" id="n{i}" data-i="{i}" tabindex="0" role="button" '
            f'aria-label="{escape(label)}" transform="translate({pos.x:.0f},{pos.y:.0f})">'
            f'<title>{escape(label)}</title><rect width="{NODE_W}" height="{NODE_H}" rx="6"/>'
            f'<rect class="stripe" width="5" height="{NODE_H}" rx="2"/>'
            f'<text class="kind" x="12" y="11">{escape(kind)}</text>'
            f'<text class="name" x="12" y="24">{escape(_short(str(node["name"])))}</text>'
        )
        if key in badges:
            count, severity = badges[key]
            out.append(
                f'<g class="badge b-{severity}" transform="translate({NODE_W - 4},2)"><circle r="8"/>'
                f'<text y="3.5">{count if count < 100 else "99+"}</text></g>'
            )
        out.append("</g>")
    out.append("</g></g></svg>")
    return "".join(out)


_FAN = 12


def _fans(edges: Sequence[Mapping[str, Any]]) -> set[str]:
    """Nodes that apply more than a dozen others (the Kustomization applying every app): their edges
    are drawn faintly until one of their ends is selected."""
    applied: dict[str, int] = {}
    for edge in edges:
        if edge["kind"] == "applies":
            key = node_key(edge["to"])
            applied[key] = applied.get(key, 0) + 1
    return {key for key, n in applied.items() if n > _FAN}


def _curve(placed: Layout, start: str, end: str) -> str:
    """From the right side of ``start`` (what is needed) to the left side of ``end`` (what needs it);
    when ``end`` is not to the right, a loop out on the right of both."""
    a, b = placed.positions[start], placed.positions[end]
    y1, y2 = a.y + NODE_H / 2, b.y + NODE_H / 2
    x1 = a.x + NODE_W
    if b.x > a.x + NODE_W:
        x2 = b.x - 2
        bend = max((x2 - x1) / 2, 24.0)
        return f"M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} {x2 - bend:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
    x2 = b.x + NODE_W + 2
    bulge = max(x1, x2) + COL_W / 5
    return f"M{x1:.0f},{y1:.0f} C{bulge:.0f},{y1:.0f} {bulge:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"


# -- timeline ---------------------------------------------------------------------------------------


class Bar(NamedTuple):
    key: str
    """Node key (``cluster/kind/namespace/name``)."""
    label: str
    start: float
    end: float | None
    """When it became Ready; None when it never did."""
    state: str
    reason: str
    critical: bool
    segments: tuple[tuple[float, float | None, str], ...] = ()
    """(from, to, ``wait``, ``work`` or ``fail``) from one event to the next; ``to`` None: to the end."""


_WAITING = {"Blocked", "Absent", "Pending", "Suspended"}
_FAILING = {"Failed", "Stalled", "Retrying", "RetriesExceeded"}


def _segments(
    events: list[tuple[float, str]], ready: float | None
) -> tuple[tuple[float, float | None, str], ...]:
    out: list[tuple[float, float | None, str]] = []
    for n, (t, state) in enumerate(events):
        if state == "Ready":
            break
        end = events[n + 1][0] if n + 1 < len(events) else ready
        kind = "wait" if state in _WAITING else "fail" if state in _FAILING else "work"
        out.append((t, end, kind))
    return tuple(out)


def timeline_bars(simulation: Mapping[str, Any]) -> list[Bar]:
    """Bars of the ``homeops simulate -o json`` contract: each Kustomization and HelmRelease from its
    first event to Ready (or to the end), in the order they became Ready, cut where its state changes
    (waiting on a dependency, working, failing)."""
    first: dict[str, float] = {}
    changes: dict[str, list[tuple[float, str]]] = {}
    for event in simulation.get("events", ()):
        first.setdefault(node_key(event), float(event["t"]))
        changes.setdefault(node_key(event), []).append((float(event["t"]), str(event["to"])))
    critical = {node_key(step) for step in simulation.get("critical_path", ())}
    bars = []
    for final in simulation.get("final", ()):
        if final["kind"] not in ("Kustomization", "HelmRelease"):
            continue
        key = node_key(final)
        ready = final.get("ready_at")
        label = f"{final['namespace']}/{final['name']}" if final["namespace"] else final["name"]
        bars.append(
            Bar(
                key,
                f"{final['kind']} {label}",
                first.get(key, 0.0),
                None if ready is None else float(ready),
                str(final["state"]),
                str(final.get("reason") or ""),
                key in critical,
                _segments(changes.get(key, []), None if ready is None else float(ready)),
            )
        )
    return sorted(bars, key=lambda b: (b.end is None, b.end or 0.0, b.start, b.label))


_ROW = 16
_LABEL_W = 300
_PLOT_W = 760


def timeline_svg(bars: Sequence[Bar], end: float, keys: Mapping[str, int]) -> str:
    """A gantt chart: one row per bar, a time axis on top. ``keys``: node key → graph node index, so a
    bar selects its node."""
    end = max(end, 1.0)
    step = _tick(end)
    height = 24 + len(bars) * _ROW + 8
    width = _LABEL_W + _PLOT_W + 20
    scale = _PLOT_W / end
    out = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="bootstrap timeline">'
    ]
    t = 0.0
    while t <= end + 1e-9:
        x = _LABEL_W + t * scale
        out.append(
            f'<line class="tick" x1="{x:.1f}" y1="18" x2="{x:.1f}" y2="{height - 4}"/>'
            f'<text class="tick-label" x="{x:.1f}" y="12">{clock(t)}</text>'
        )
        t += step
    for row, bar in enumerate(bars):
        y = 24 + row * _ROW
        stop = bar.end if bar.end is not None else end
        x = _LABEL_W + bar.start * scale
        w = max((stop - bar.start) * scale, 2.0)
        state = "ready" if bar.end is not None else "stuck"
        classes = f"bar {state}{' critical' if bar.critical else ''}"
        target = f' data-i="{keys[bar.key]}"' if bar.key in keys else ""
        when = f"Ready at {clock(bar.end)}" if bar.end is not None else f"{bar.state} {bar.reason}".strip()
        out.append(
            f'<g class="{classes}"{target}><title>{escape(bar.label)}: {escape(when)}</title>'
            f'<text class="bar-label" x="{_LABEL_W - 8}" y="{y + 11}">{escape(_short(bar.label, 44))}</text>'
            f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="{_ROW - 5}" rx="3"/>'
        )
        for begin, until, kind in bar.segments:
            sx = _LABEL_W + begin * scale
            sw = ((until if until is not None else end) - begin) * scale
            if sw >= 0.5:
                box = f'x="{sx:.1f}" y="{y + 2}" width="{sw:.1f}" height="{_ROW - 5}"'
                out.append(f'<rect class="seg {kind}" {box}/>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def _tick(end: float) -> float:
    for step in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400):
        if end / step <= 12:
            return float(step)
    return 21600.0
