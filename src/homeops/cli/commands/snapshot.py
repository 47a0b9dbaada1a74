"""``homeops snapshot save FILE``: record what status, why and doctor need from a cluster, as one List."""

from __future__ import annotations

import argparse
import sys

from ...errors import ExitCode


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "snapshot",
        help="save a cluster's objects to a file that status, why and doctor can read (--from)",
        description="Read a live cluster (read-only) and save the objects homeops explains: Flux objects, "
        "workloads, pods, events, ExternalSecrets and stores, HTTPRoutes and Gateways, claims, Secrets and "
        "ConfigMaps without their values, managedFields stripped. The file is a Kubernetes List (JSON).",
        epilog="Exit codes: 0 saved, 2 usage error (no kubeconfig or context), 3 the cluster could not be "
        "read or the file not written.",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    save = verbs.add_parser("save", help="save a snapshot to FILE")
    save.add_argument("file", help="the JSON file to write ('-' for stdout)")
    add_cluster_options(save)


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--context", help="kube context (default: the .homeops.yaml contexts map, else current)"
    )
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")


def run(args: argparse.Namespace) -> int:
    from ...cluster.reader import LiveCluster
    from ...fsutil import atomic_write

    snapshot = LiveCluster(args.context, args.kubeconfig).read()
    text = snapshot.to_json()
    if args.file == "-":
        sys.stdout.write(text)
    else:
        atomic_write(args.file, text, mode=0o600)
    missing = f"; not served: {', '.join(snapshot.unavailable)}" if snapshot.unavailable else ""
    print(f"homeops: saved {len(snapshot.items)} objects from {snapshot.source}{missing}", file=sys.stderr)
    return int(ExitCode.OK)
