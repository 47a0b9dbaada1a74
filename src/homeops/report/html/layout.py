"""Where each node of the dependency graph goes in the report's picture.

The domain already gives the two hard parts of a layered layout: the ranks are the rollout waves
(a Kustomization or HelmRelease starts after what it depends on and what applies it), and the groups
are the clusters and namespaces. So the picture is a grid: each wave has three columns, its
HelmReleases, its Kustomizations, then the sources those Kustomizations apply (so an app reads left
to right: Kustomization, source, release), and each namespace one horizontal lane. What is left is
the order inside a lane: each node takes the row of what it follows (an app's Kustomization, source
and release line up), else the nearest free row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from ...records import NamedTuple

NODE_W = 180
NODE_H = 30
COL_W = 226
ROW_H = 38
LANE_HEAD = 26
LANE_GAP = 14
CLUSTER_HEAD = 30
MARGIN = 16

_FOLLOWS = ("applies", "dependsOn", "source")
"""Edge kinds that place a node after another (the edge's target comes first)."""


class Placed(NamedTuple):
    x: float
    y: float
    column: int
    lane: int


class Lane(NamedTuple):
    cluster: str
    namespace: str
    y: float
    height: float


class Layout(NamedTuple):
    positions: dict[str, Placed]
    """Node key → top-left corner of its box."""
    lanes: list[Lane]
    clusters: list[tuple[str, float]]
    """(cluster, y of its heading), only when there is more than one cluster."""
    width: float
    height: float


def node_key(node: Mapping[str, Any]) -> str:
    """The key ``graph -f json`` nodes are known by here: ``cluster/kind/namespace/name``."""
    return f"{node['cluster']}/{node['kind']}/{node['namespace']}/{node['name']}"


def columns(
    nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]], waves: Mapping[str, int]
) -> dict[str, int]:
    """Each node's column, numbered from 0 with no empty column: three per wave (HelmReleases,
    Kustomizations, then what those apply); a node outside the waves goes one column after whatever
    applies it, or one before its first consumer."""
    keys = [node_key(n) for n in nodes]
    column: dict[str, int] = {
        k: 3 * waves[k] - (1 if k.split("/", 2)[1] == "HelmRelease" else 0) for k in keys if k in waves
    }
    appliers: dict[str, list[str]] = defaultdict(list)
    consumers: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        source, target = node_key(edge["from"]), node_key(edge["to"])
        if edge["kind"] == "applies":
            appliers[source].append(target)
        else:
            consumers[target].append(source)
    last = max(column.values(), default=0)
    for key in keys:
        if key in column:
            continue
        placed = [column[a] for a in appliers.get(key, ()) if a in column]
        if placed:
            column[key] = max(placed) + 1
            continue
        users = [column[c] for c in consumers.get(key, ()) if c in column]
        column[key] = min(users) - 1 if users else last + 3
    used = {c: i for i, c in enumerate(sorted(set(column.values())))}
    return {k: used[c] for k, c in column.items()}


def layout(
    nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]], waves: Mapping[str, int]
) -> Layout:
    """Positions for every node: lanes per (cluster, namespace), columns per wave."""
    column = columns(nodes, edges, waves)
    follows: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        if edge["kind"] in _FOLLOWS:
            follows[node_key(edge["from"])].append(node_key(edge["to"]))
    by_lane: dict[tuple[str, str], list[str]] = defaultdict(list)
    for node in nodes:
        by_lane[(node["cluster"], node["namespace"])].append(node_key(node))
    cluster_names = sorted({key[0] for key in by_lane})
    # Lanes read top to bottom in the order they start rolling out (flux-system first), then by name.
    lane_order = sorted(by_lane, key=lambda k: (k[0], min(column[n] for n in by_lane[k]), k[1]))
    positions: dict[str, Placed] = {}
    lanes: list[Lane] = []
    clusters: list[tuple[str, float]] = []
    y = float(MARGIN)
    current = None
    for index, lane_key in enumerate(lane_order):
        if len(cluster_names) > 1 and lane_key[0] != current:
            current = lane_key[0]
            clusters.append((current, y))
            y += CLUSTER_HEAD
        rows = _rows(by_lane[lane_key], column, follows)
        height = LANE_HEAD + (max(rows.values(), default=0) + 1) * ROW_H
        lanes.append(Lane(lane_key[0], lane_key[1], y, height))
        for key, row in rows.items():
            positions[key] = Placed(
                MARGIN + 12 + column[key] * COL_W, y + LANE_HEAD + row * ROW_H, column[key], index
            )
        y += height + LANE_GAP
    width = MARGIN * 2 + max(column.values(), default=0) * COL_W + NODE_W + 24
    return Layout(positions, lanes, clusters, width, y - LANE_GAP + MARGIN)


def _rows(members: list[str], column: Mapping[str, int], follows: Mapping[str, list[str]]) -> dict[str, int]:
    """Rows inside one lane: column by column, each node on the row of what it follows if that row is
    free in its column, else on the free row nearest to it."""
    here = set(members)
    row: dict[str, int] = {}
    taken: dict[int, set[int]] = defaultdict(set)
    for col in sorted({column[m] for m in members}):
        cell = [m for m in members if column[m] == col]

        def wanted(key: str) -> float:
            rows = [row[t] for t in follows.get(key, ()) if t in here and t in row]
            return sum(rows) / len(rows) if rows else float("inf")

        for key in sorted(cell, key=lambda k: (wanted(k), k.rsplit("/", 1)[-1], k)):
            want = wanted(key)
            start = 0 if want == float("inf") else round(want)
            free = _nearest_free(taken[col], start, anywhere=want != float("inf"))
            row[key] = free
            taken[col].add(free)
    return row


def _nearest_free(taken: set[int], start: int, *, anywhere: bool) -> int:
    """The free row closest to ``start`` (below it first); without a wish, the first free row."""
    if not anywhere:
        start = 0
        while start in taken:
            start += 1
        return start
    for distance in range(len(taken) + 1):
        for candidate in (start + distance, start - distance):
            if candidate >= 0 and candidate not in taken:
                return candidate
    return max(taken, default=-1) + 1
