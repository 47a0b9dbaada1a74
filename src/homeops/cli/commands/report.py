"""``homeops report [PATH] --output FILE.html``: one self-contained HTML page about a repository."""

from __future__ import annotations

import argparse
import sys

from ...errors import ExitCode
from . import add_offline
from .status import add_source_options


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "report",
        help="write one HTML page: graph, waves, bootstrap timeline, live state, findings",
        description="Write a self-contained HTML report of the repository: the dependency graph as an "
        "interactive picture, the rollout waves, the simulated bootstrap as a timeline, the findings of "
        "'check' with their rule docs and, with --from SNAPSHOT (or --live), the live state of every Flux "
        "object and the doctor's problems. The page loads nothing from the network.",
        epilog="Exit codes: 0 written, 2 usage error, 3 the cluster or snapshot could not be read.",
    )
    parser.add_argument("path", nargs="?", default=".", help="repository folder (default: .)")
    parser.add_argument("--output", "-o", metavar="FILE.html", required=True, help="where to write the page")
    parser.add_argument(
        "--live", action="store_true", help="read live state from the current kube context (read-only)"
    )
    parser.add_argument(
        "--no-simulation", action="store_true", help="leave out the simulated bootstrap timeline"
    )
    parser.add_argument(
        "--rules-url",
        metavar="URL",
        help="also link each rule to its published docs; '{id}' is replaced by the rule id "
        "(the docs are inlined in the page either way)",
    )
    add_source_options(parser)
    add_offline(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ...fsutil import atomic_write
    from ...report.html.collect import LiveOptions, collect_repository
    from ...report.html.repository import repository_page

    live = None
    if args.sources or args.context or args.live:
        live = LiveOptions(args.sources or (), args.context, args.kubeconfig, args.cluster)
    data = collect_repository(args.path, live=live, simulation=not args.no_simulation, offline=args.offline)
    page = repository_page(data, rules_url=args.rules_url)
    out = Path(args.output)
    atomic_write(out, page)
    nodes = len(data.graph["nodes"])
    print(f"homeops: wrote {out} ({nodes} nodes, {len(data.findings)} findings)", file=sys.stderr)
    return int(ExitCode.OK)
