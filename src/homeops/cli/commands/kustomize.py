"""``homeops kustomize build DIR``: print what the native kustomize engine builds for a folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ...errors import ExitCode, UsageError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "kustomize",
        help="run the native kustomize build on a folder",
        description="Build a folder with homeops' native kustomize engine (a debugging aid).",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    build = verbs.add_parser(
        "build",
        help="print the objects a folder builds to",
        description="Print the objects a folder builds to, as 'kubectl kustomize DIR' does (sorted keys, "
        "kubectl's order). Features the engine does not implement fall back to 'kubectl kustomize', run "
        "on a checked private copy of the files the build may read (noted on stderr). Nothing outside "
        "the source root is ever read: inside a Git repository that is the repository; outside one, the "
        "closest folder holding every folder the kustomizations name.",
        epilog="Exit codes: 0 built, 2 bad arguments, 3 the build failed (or names a file outside the "
        "source, or a remote base that could not be fetched), 4 kubectl missing for a fallback.",
    )
    build.add_argument("dir", help="folder to build")
    build.add_argument(
        "--flux",
        action="store_true",
        help="Flux semantics: generate a kustomization when there is none, LoadRestrictionsNone",
    )
    build.add_argument("--output", "-o", choices=("yaml", "json"), default="yaml", help="output format")
    build.add_argument("--no-fallback", action="store_true", help="fail instead of running kubectl kustomize")
    build.add_argument(
        "--offline", action="store_true", help="remote bases only from homeops' cache, never the network"
    )
    build.add_argument(
        "--root",
        metavar="DIR",
        help="source root (default: the Git repository holding DIR; without one, the closest folder "
        "holding every folder DIR's kustomizations name)",
    )


def run(args: argparse.Namespace) -> int:
    from ...kustomize import build, legacy_sort
    from ...load.tree import SourceTree
    from ...load.walk import kustomize_root
    from ...yamlout import dump_all

    target = Path(args.dir)
    if not target.exists():
        raise UsageError(f"{args.dir}: no such file or directory")
    root = Path(args.root) if args.root else Path(kustomize_root(str(target)))
    tree = SourceTree(root)
    result = build(
        tree, tree.relpath(target), flux=args.flux, fallback=not args.no_fallback, offline=args.offline
    )
    if result.fallback:
        print(f"homeops: note: built with kubectl kustomize ({result.fallback})", file=sys.stderr)
    objects = [res.obj for res in legacy_sort(result.resources)]
    if args.output == "json":
        json.dump(objects, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(dump_all(objects, sort_keys=True).removeprefix("---\n"))
    return int(ExitCode.OK)
