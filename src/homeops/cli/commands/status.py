"""``homeops status [PATH]``: the repository's Flux tree with the live state of each object."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ...errors import ExitCode

if TYPE_CHECKING:
    from ...doctor.scenarios import Context


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """The options status, why and doctor share: where the cluster's objects come from."""
    parser.add_argument(
        "--from",
        dest="sources",
        action="append",
        metavar="FILE",
        help="read a snapshot (homeops snapshot save, or kubectl get ... -A -o json) instead of the live "
        "cluster; repeat it, or name a folder, to merge several",
    )
    parser.add_argument(
        "--context", help="kube context (default: the .homeops.yaml contexts map, else current)"
    )
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
    parser.add_argument(
        "--cluster", help="the repository's cluster the snapshot belongs to (default: guessed)"
    )


def open_from_args(args: argparse.Namespace) -> Context:
    """The session those options name, joined with the repository at ``args.path``."""
    from ...doctor.session import open_session

    return open_session(
        args.path,
        sources=args.sources,
        context=args.context,
        kubeconfig=args.kubeconfig,
        cluster=args.cluster,
    )


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "status",
        help="the Flux tree with each object's live state, revision and drift",
        description="Join the repository's Flux tree with a cluster (read-only) or a snapshot: each object's "
        "state (Ready, Reconciling, Retrying n of N, Stalled, Blocked, Suspended, Missing), its applied "
        "revision, and drift between Git and the cluster.",
        epilog="Exit codes: 0 everything healthy or on its way, 1 something failed or is missing, 2 usage "
        "error, 3 the cluster could not be read.",
    )
    parser.add_argument("path", nargs="?", default=".", help="repository folder (default: .)")
    parser.add_argument("--output", "-o", choices=("text", "json"), default="text", help="output format")
    add_source_options(parser)


def run(args: argparse.Namespace) -> int:
    from ...doctor.report import status_json, status_text
    from ...doctor.status import status_rows
    from ...report.style import Style

    ctx = open_from_args(args)
    rows = status_rows(ctx.explainer, ctx.repo, ctx.cluster)
    if args.output == "json":
        sys.stdout.write(status_json(rows))
    else:
        sys.stdout.write(status_text(rows, Style.for_stream(sys.stdout, args.color)))
        bad = sum(1 for r in rows if r.unhealthy)
        print(f"{len(rows)} objects, {bad} unhealthy ({ctx.view.snapshot.source})", file=sys.stderr)
    return int(ExitCode.FINDINGS if any(r.unhealthy for r in rows) else ExitCode.OK)
