"""``homeops simulate [PATH]``: a cluster converging on the repository, simulated event by event."""

from __future__ import annotations

import argparse
import json
import sys

from ...errors import ExitCode, UsageError


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
    graph = build_graph(flux)
    if args.cluster:
        if args.cluster not in flux.clusters:
            raise UsageError(
                f"no cluster {args.cluster!r}",
                hint=f"clusters: {', '.join(sorted(flux.clusters)) or 'none found'}",
            )
        graph = graph.subgraph(args.cluster)
    result, assumptions, notes = simulate_tree(flux, graph, chosen, fail=args.fail, horizon=horizon)
    title = f"Simulated bootstrap of {workspace.root.name}" + (
        f", failing: {', '.join(args.fail)}" if args.fail else ""
    )
    out = sys.stdout
    if args.output == "json":
        out.write(json.dumps(to_json(result, assumptions, notes), indent=2) + "\n")
    elif args.output == "mermaid":
        out.write(to_mermaid(result, title=title))
    else:
        out.write(to_text(result, assumptions, notes, title=title))
    return int(ExitCode.OK if result.converged_at is not None else ExitCode.FINDINGS)
