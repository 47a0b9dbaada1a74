"""``homeops simulate [PATH]``: a cluster converging on the repository, simulated event by event."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Collection
from typing import TYPE_CHECKING

from ...errors import ExitCode, UsageError

if TYPE_CHECKING:
    from ...doctor.view import View
    from ...graph.model import Graph


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "simulate",
        help="simulate a cluster converging on the repository: when, in what order",
        description="A discrete-event simulation of Flux bootstrapping the repository's clusters: when each "
        "Kustomization and HelmRelease becomes Ready, the critical path and the time to converge. "
        "Durations come from the repository (intervals, timeouts, retries), the controllers' defaults "
        "and stated assumptions ('simulate:' in .homeops.yaml overrides them).",
    )
    parser.add_argument("path", nargs="?", default=".", help="repository folder (default: .)")
    parser.add_argument(
        "--fail",
        action="append",
        default=[],
        metavar="KIND/NAMESPACE/NAME",
        help="this object never becomes Ready (repeatable): what is blocked, what stalls and when",
    )
    parser.add_argument(
        "--for",
        dest="duration",
        metavar="DURATION",
        help="simulated time to cover (e.g. 2h); default: until nothing changes, at most 24h; "
        "with --for, retry loops without end run to that time",
    )
    start = parser.add_mutually_exclusive_group()
    start.add_argument(
        "--converged",
        action="store_true",
        help="start from the cluster converged on the repository (a settled bootstrap): with --fail, what "
        "a failure does to a running cluster (which keep running on stale data, what blocks, when)",
    )
    start.add_argument(
        "--from",
        dest="sources",
        action="append",
        metavar="SNAPSHOT",
        help="start from a cluster as a snapshot shows it (homeops snapshot save, or kubectl get ... -A "
        "-o json; repeat it, or name a folder, to merge several)",
    )
    start.add_argument(
        "--change",
        metavar="REF",
        help="what a commit sets in motion and in what order, from the cluster converged on its parent "
        "(or BASE..HEAD): Kustomizations re-applying, HelmReleases upgrading, Secrets changing, pods "
        "Reloader restarts, objects pruned",
    )
    parser.add_argument("--cluster", help="only this cluster")
    parser.add_argument("--output", "-o", choices=("text", "json", "mermaid"), default="text")


def run(args: argparse.Namespace) -> int:
    from ...graph.model import build_graph
    from ...runtime.durations import parse_duration
    from ...simulate.report import to_json, to_mermaid, to_text
    from ...simulate.scenario import simulate_tree
    from ...simulate.settings import settings
    from ...workspace import open_workspace

    horizon = None
    if args.duration is not None:
        horizon = parse_duration(args.duration)
        if not horizon:
            raise UsageError(f"--for {args.duration!r} is not a duration", hint="for example 90m, 2h, 1h30m")
    workspace = open_workspace(args.path)
    config = workspace.config
    chosen = settings(config.simulate, config.simulate_lines)
    flux = workspace.flux
    change = None
    started: list[str] = []
    view = None
    if args.change:
        from ...simulate.change import read_revisions

        revisions = read_revisions(workspace.root, args.change)
        flux = revisions.head
        change = (_one_cluster(build_graph(revisions.base), args.cluster, revisions.base.clusters), revisions)
        started.append(
            f"start = converged on {revisions.base_label}; {revisions.head_label} is pushed at +0:00:00 "
            "(the cluster was settled on the base: every periodic timer starts then)"
        )
    elif args.sources:
        from ...cluster.reader import SnapshotFiles
        from ...doctor.view import View

        view = View(SnapshotFiles(args.sources).read())
        started.append(
            f"start = the snapshot {view.snapshot.source} at +0:00:00 ({view.now:%Y-%m-%d %H:%M:%SZ}); "
            "what fails in it keeps failing; an ExternalSecret's next refresh counts from its "
            "status.refreshTime, other periodic timers from +0:00:00; objects missing from it are "
            "re-created at their Kustomization's next interval"
        )
    elif args.converged:
        started.append(
            "start = converged on the repository at +0:00:00 (the final state of a simulated bootstrap); "
            "every periodic timer (interval, refreshInterval, store re-validation) starts then"
        )
    graph = build_graph(flux)
    if args.cluster or view is not None:
        graph = _one_cluster(
            graph, args.cluster or _snapshot_cluster(graph, flux.clusters, view), flux.clusters
        )
    result, assumed, notes = simulate_tree(
        flux,
        graph,
        chosen,
        fail=args.fail,
        horizon=horizon,
        converged=args.converged,
        snapshot=view,
        change=change,
        start=started,
    )
    if change is not None:
        from ...simulate.change import summary

        for what, labels in summary([f.obj for f in result.final], []).items():
            notes.append(f"{_CHANGES.get(what, what)}: {', '.join(labels)}")
    title = _title(workspace.root.name, args, change[1].head_label if change else None)
    out = sys.stdout
    if args.output == "json":
        out.write(json.dumps(to_json(result, assumed, notes), indent=2) + "\n")
    elif args.output == "mermaid":
        out.write(to_mermaid(result, title=title))
    else:
        out.write(to_text(result, assumed, notes, title=title))
    return int(ExitCode.OK if result.converged_at is not None else ExitCode.FINDINGS)


_CHANGES = {
    "added": "the change adds",
    "removed": "the change removes",
    "spec": "the change modifies",
    "data": "the change gives new Secret data to",
    "chart": "new chart for",
    "values": "new valuesFrom data for",
}


def _title(repo: str, args: argparse.Namespace, head: str | None) -> str:
    if head is not None:
        what = f"Simulated change {head} of {repo}"
    elif args.sources:
        what = f"Simulated cluster of {repo} from {', '.join(args.sources)}"
    elif args.converged:
        what = f"Simulated running cluster of {repo}"
    else:
        what = f"Simulated bootstrap of {repo}"
    return what + (f", failing: {', '.join(args.fail)}" if args.fail else "")


def _one_cluster(graph: Graph, name: str | None, clusters: Collection[str]) -> Graph:
    if name is None:
        return graph
    if name not in clusters:
        raise UsageError(
            f"no cluster {name!r}", hint=f"clusters: {', '.join(sorted(clusters)) or 'none found'}"
        )
    return graph.subgraph(name)


def _snapshot_cluster(graph: Graph, clusters: Collection[str], view: View | None) -> str | None:
    """The repository's cluster a snapshot shows (when the repository has several)."""
    from ...doctor.repo import best_cluster

    return best_cluster(graph, sorted(clusters), view) if clusters else None
