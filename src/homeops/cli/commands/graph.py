"""``homeops graph [PATH]``: the dependency graph, rollout waves, blast radius and dependency chains."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ...errors import ExitCode, UsageError
from . import add_offline, known_cluster

FORMATS = ("tree", "mermaid", "dot", "json", "text")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "graph",
        help="show what depends on what: rollout order, cycles, blast radius",
        description="The dependency graph of every cluster: Kustomization and HelmRelease dependsOn, "
        "sources, secret producers and consumers, gateways and routes, claims and workloads.",
        epilog="Exit codes: 0 ok, 2 usage error (a name or cluster the graph does not hold).",
    )
    parser.add_argument("path", nargs="?", default=".", help="repository folder (default: .)")
    parser.add_argument(
        "--format",
        "-f",
        "--output",
        "-o",
        dest="format",
        choices=FORMATS,
        default=None,
        help="output format: tree (what applies what, with each object's dependencies), mermaid, dot, "
        "json, or text (each object and what it needs). Default: tree on a terminal, mermaid otherwise",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--order", action="store_true", help="print the rollout waves")
    group.add_argument("--impact", metavar="NAME", help="everything that blocks if NAME fails (a tree)")
    group.add_argument("--why", metavar="NAME", help="what NAME waits for (its dependency chain)")
    parser.add_argument("--cluster", help="only this cluster")
    parser.add_argument(
        "--all-kinds",
        action="store_true",
        help="include secrets, stores, gateways and claims (default: Kustomizations, "
        "HelmReleases and sources)",
    )
    add_offline(parser)


def run(args: argparse.Namespace) -> int:
    from ...graph.export import (
        DEFAULT_KINDS,
        rollout_text,
        to_dot,
        to_json,
        to_mermaid,
        to_text,
        to_tree,
        tree_json,
        tree_text,
    )
    from ...graph.model import build_graph, impact, rollout, why
    from ...workspace import open_workspace

    workspace = open_workspace(args.path, offline=args.offline)
    graph = build_graph(workspace.flux)
    if args.cluster:
        known_cluster(args.cluster, workspace.flux.clusters)
        graph = graph.subgraph(args.cluster)
    if not graph.nodes:
        print(f"homeops: note: no Flux Kustomization or HelmRelease found under {args.path}", file=sys.stderr)
    out = sys.stdout
    if args.format is None:
        args.format = "tree" if out.isatty() else "mermaid"
    if args.order:
        plans = [(name, rollout(graph, name)) for name in sorted({n.cluster for n in graph.nodes})]
        if args.format == "json":
            payload = {
                name: {
                    "waves": [[node.label for node in wave] for wave in plan.waves],
                    "blocked": [node.label for node in plan.blocked],
                }
                for name, plan in plans
            }
            out.write(json.dumps(payload, indent=2) + "\n")
        else:
            out.write(rollout_text(plans))
        return int(ExitCode.OK)
    if args.impact or args.why:
        target = args.impact or args.why
        node = _one(graph.find(target), target)
        tree = impact(graph, node) if args.impact else why(graph, node)
        if args.format == "json":
            out.write(json.dumps([tree_json(tree)], indent=2) + "\n")
        else:
            title = "blocks if it fails:" if args.impact else "waits for:"
            out.write(tree_text(tree, title=f"[{tree.node.cluster}] {title}"))
        return int(ExitCode.OK)
    kinds = None if args.all_kinds else DEFAULT_KINDS
    writer = {"tree": to_tree, "mermaid": to_mermaid, "dot": to_dot, "json": to_json, "text": to_text}[
        args.format
    ]
    out.write(writer(graph, kinds))
    return int(ExitCode.OK)


def _one(matches: list[Any], target: str) -> Any:
    """The one graph node ``target`` names. Several in different clusters or namespaces are ambiguous
    (a usage error naming each); an app's Kustomization and HelmRelease of one name are not: the
    Kustomization applies the HelmRelease, so it is the one meant (a note names the others)."""
    if not matches:
        raise UsageError(
            f"nothing named {target!r} in the graph", hint="use NAME, NAMESPACE/NAME or KIND/NAMESPACE/NAME"
        )
    first = matches[0]
    if len({(m.cluster, m.namespace) for m in matches}) > 1:
        listed = ", ".join(f"{m.label} in cluster {m.cluster}" for m in matches)
        clusters = sorted({m.cluster for m in matches})
        namespaces = sorted({m.namespace for m in matches})
        how = []
        if len(clusters) > 1:
            how.append(f"--cluster {'|'.join(clusters)}")
        if len(namespaces) > 1:
            how.append(f"NAMESPACE/NAME ({', '.join(f'{ns}/{first.name}' for ns in namespaces)})")
        raise UsageError(
            f"{target!r} names {len(matches)} objects: {listed}", hint=f"choose with {' and '.join(how)}"
        )
    if len(matches) > 1:
        others = ", ".join(m.label for m in matches[1:])
        print(f"homeops: note: showing {first.label}; {target!r} also names {others} "
              "(give KIND/NAMESPACE/NAME to see one of those)", file=sys.stderr)  # fmt: skip
    return first
