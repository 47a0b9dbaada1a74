"""The dependency graph as Mermaid, Graphviz dot, JSON, rollout waves and trees (plain text)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from .model import Edge, Graph, Node, Rollout, TreeNode

_EDGE_STYLE = {
    "dependsOn": "solid",
    "applies": "dashed",
    "source": "dotted",
    "secret": "dotted",
    "store": "dotted",
    "gateway": "dotted",
    "claim": "dotted",
}


def _select(graph: Graph, kinds: tuple[str, ...] | None) -> tuple[list[Node], list[Edge]]:
    nodes = sorted(n for n in graph.nodes if kinds is None or n.kind in kinds)
    keep = set(nodes)
    edges = sorted(
        (e for e in graph.edges if e.source in keep and e.target in keep),
        key=lambda e: (e.source, e.target, e.kind),
    )
    return nodes, edges


def _ident(node: Node, ids: dict[Node, str]) -> str:
    if node not in ids:
        ids[node] = f"n{len(ids)}"
    return ids[node]


_MERMAID_SHAPES = {"Kustomization": ("[", "]"), "HelmRelease": ("([", "])")}
_DOT_SHAPES = {"Kustomization": "box", "HelmRelease": "ellipse"}


def to_mermaid(graph: Graph, kinds: tuple[str, ...] | None = None) -> str:
    nodes, edges = _select(graph, kinds)
    ids: dict[Node, str] = {}
    lines = ["flowchart LR"]
    clusters = sorted({n.cluster for n in nodes})
    for cluster in clusters:
        if len(clusters) > 1:
            lines.append(f'  subgraph {_safe(cluster)}["cluster {cluster}"]')
        for node in (n for n in nodes if n.cluster == cluster):
            shape = _MERMAID_SHAPES.get(node.kind, ("[/", "/]"))
            lines.append(f'    {_ident(node, ids)}{shape[0]}"{node.kind}<br/>{node.short}"{shape[1]}')
        if len(clusters) > 1:
            lines.append("  end")
    for edge in edges:
        arrow = "-->" if edge.kind == "dependsOn" else "-.->"
        label = edge.kind if edge.kind != "dependsOn" else "dependsOn"
        lines.append(f"  {_ident(edge.source, ids)} {arrow}|{label}| {_ident(edge.target, ids)}")
    return "\n".join(lines) + "\n"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def to_dot(graph: Graph, kinds: tuple[str, ...] | None = None) -> str:
    nodes, edges = _select(graph, kinds)
    lines = ["digraph homeops {", "  rankdir=LR;", '  node [fontname="sans-serif", fontsize=10];']
    for cluster in sorted({n.cluster for n in nodes}):
        lines.append(f'  subgraph "cluster_{cluster}" {{')
        lines.append(f'    label="cluster {cluster}";')
        for node in (n for n in nodes if n.cluster == cluster):
            shape = _DOT_SHAPES.get(node.kind, "note")
            lines.append(f'    "{_key(node)}" [label="{node.kind}\\n{node.short}", shape={shape}];')
        lines.append("  }")
    for edge in edges:
        attributes = f'label="{edge.kind}", style={_EDGE_STYLE[edge.kind]}'
        lines.append(f'  "{_key(edge.source)}" -> "{_key(edge.target)}" [{attributes}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _key(node: Node) -> str:
    return f"{node.cluster}/{node.kind}/{node.namespace}/{node.name}"


def node_json(node: Node) -> dict[str, str]:
    return {"cluster": node.cluster, "kind": node.kind, "namespace": node.namespace, "name": node.name}


def to_json(graph: Graph, kinds: tuple[str, ...] | None = None) -> str:
    nodes, edges = _select(graph, kinds)
    payload = {
        "nodes": [{**node_json(n), "path": _origin_path(graph, n)} for n in nodes],
        "edges": [
            {"from": node_json(e.source), "to": node_json(e.target), "kind": e.kind, "detail": e.detail}
            for e in edges
        ],
        "missing": [
            {"from": node_json(e.source), "to": node_json(e.target), "kind": e.kind} for e in graph.missing
        ],
    }
    return json.dumps(payload, indent=2) + "\n"


def _origin_path(graph: Graph, node: Node) -> str | None:
    res = graph.nodes.get(node)
    return res.origin.path if res is not None else None


def to_text(graph: Graph, kinds: tuple[str, ...] | None = None) -> str:
    """Each node and what it needs, one block per node, grouped by cluster."""
    nodes, edges = _select(graph, kinds)
    needs: dict[Node, list[Edge]] = {}
    for edge in edges:
        needs.setdefault(edge.source, []).append(edge)
    lines: list[str] = []
    for cluster in sorted({n.cluster for n in nodes}):
        lines.append(f"cluster {cluster}:")
        for node in (n for n in nodes if n.cluster == cluster):
            lines.append(f"  {node.kind} {node.short}")
            for edge in needs.get(node, []):
                lines.append(f"    {edge.kind} → {edge.target.kind} {edge.target.short}")
    return "\n".join(lines) + "\n"


def rollout_text(rollouts: Iterable[tuple[str, Rollout]]) -> str:
    lines: list[str] = []
    for cluster, plan in rollouts:
        lines.append(f"cluster {cluster}:")
        for i, wave in enumerate(plan.waves, 1):
            lines.append(f"  wave {i}:")
            lines.extend(f"    {node.kind} {node.short}" for node in wave)
        if plan.blocked:
            lines.append("  never (a dependsOn cycle, or waiting on one):")
            lines.extend(f"    {node.kind} {node.short}" for node in plan.blocked)
    return "\n".join(lines) + "\n"


def tree_text(root: TreeNode, *, title: str) -> str:
    lines = [title, f"{root.node.kind} {root.node.short}"]

    def walk(node: TreeNode, prefix: str) -> None:
        for i, child in enumerate(node.children):
            last = i == len(node.children) - 1
            branch = "└── " if last else "├── "
            suffix = " (see above)" if child.repeated else ""
            lines.append(f"{prefix}{branch}[{child.via}] {child.node.kind} {child.node.short}{suffix}")
            walk(child, prefix + ("    " if last else "│   "))

    walk(root, "")
    return "\n".join(lines) + "\n"


def tree_json(root: TreeNode) -> dict[str, object]:
    return {
        **node_json(root.node),
        "via": root.via,
        "repeated": root.repeated,
        "children": [tree_json(c) for c in root.children],
    }
