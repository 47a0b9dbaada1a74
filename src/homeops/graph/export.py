"""The dependency graph as Mermaid, Graphviz dot, JSON, rollout waves and trees (plain text)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable

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
    _draw(root, "", lambda child: f"[{child.via}] {child.node.kind} {child.node.short}", lines)
    return "\n".join(lines) + "\n"


def _draw(node: TreeNode, prefix: str, text: Callable[[TreeNode], str], lines: list[str]) -> None:
    """The children of ``node`` below it, with box-drawing branches."""
    for i, child in enumerate(node.children):
        last = i == len(node.children) - 1
        branch = "└── " if last else "├── "
        suffix = " (see above)" if child.repeated else ""
        lines.append(f"{prefix}{branch}{text(child)}{suffix}")
        _draw(child, prefix + ("    " if last else "│   "), text, lines)


def to_tree(graph: Graph, kinds: tuple[str, ...] | None = None) -> str:
    """Each cluster as Flux applies it: from its entry points, what each Kustomization applies, with
    what every object needs besides (dependsOn, chart source, secrets...) on its line."""
    nodes, edges = _select(graph, kinds)
    applied: dict[Node, list[Node]] = {}
    needs: dict[Node, list[Edge]] = {}
    has_applier: set[Node] = set()
    for edge in edges:
        if edge.kind == "applies":
            applied.setdefault(edge.target, []).append(edge.source)
            has_applier.add(edge.source)
        else:
            needs.setdefault(edge.source, []).append(edge)
    seen: set[Node] = set()

    def grow(node: Node) -> TreeNode:
        if node in seen:
            return TreeNode(node, "", (), repeated=True)
        seen.add(node)
        children = sorted(applied.get(node, ()), key=lambda n: (n.kind != "Kustomization", n))
        return TreeNode(node, "", tuple(grow(child) for child in children))

    own: set[Node] = set()
    """The sources of the entry points: the repository itself, not worth repeating on every line."""

    def text(tree: TreeNode) -> str:
        line = f"{tree.node.kind} {tree.node.short}"
        if tree.repeated:
            return line
        wants: dict[str, list[str]] = {}
        for edge in needs.get(tree.node, ()):
            if edge.kind == "source" and edge.target in own and tree.node.kind == "Kustomization":
                continue
            target = (
                edge.target.short if edge.kind == "dependsOn" else f"{edge.target.kind} {edge.target.short}"
            )
            wants.setdefault(edge.kind, []).append(target)
        details = "; ".join(f"{kind}: {', '.join(targets)}" for kind, targets in sorted(wants.items()))
        return f"{line}  ({details})" if details else line

    lines: list[str] = []
    for cluster in sorted({n.cluster for n in nodes}):
        mine = [n for n in nodes if n.cluster == cluster]
        lines.append(f"cluster {cluster}:")
        roots = [n for n in mine if n.kind == "Kustomization" and n not in has_applier]
        own.clear()
        own.update(e.target for root in roots for e in needs.get(root, ()) if e.kind == "source")
        for root in roots:
            tree = grow(root)
            lines.append(f"  {text(tree)}")
            _draw(tree, "  ", text, lines)
        rest = [n for n in mine if n not in seen]
        if rest:
            lines.append("not applied by a Kustomization of this repository:")
            lines.extend(f"  {text(TreeNode(n, '', ()))}" for n in rest)
    return "".join(f"{line}\n" for line in lines)


def tree_json(root: TreeNode) -> dict[str, object]:
    return {
        **node_json(root.node),
        "via": root.via,
        "repeated": root.repeated,
        "children": [tree_json(c) for c in root.children],
    }
