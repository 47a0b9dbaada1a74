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
        description="Print the objects a folder builds to, in kubectl kustomize's order. Features the "
        "engine does not implement fall back to 'kubectl kustomize' (noted on stderr).",
        epilog="Exit codes: 0 built, 2 bad arguments, 3 the build failed, 4 kubectl missing for a fallback.",
    )
    build.add_argument("dir", help="folder to build (inside a repository)")
    build.add_argument(
        "--flux",
        action="store_true",
        help="Flux semantics: generate a kustomization when there is none, LoadRestrictionsNone",
    )
    build.add_argument("--output", "-o", choices=("yaml", "json"), default="yaml", help="output format")
    build.add_argument("--no-fallback", action="store_true", help="fail instead of running kubectl kustomize")
    build.add_argument(
        "--root",
        metavar="DIR",
        help="repository root (default: the nearest folder above DIR with a .git, else the current folder)",
    )


def run(args: argparse.Namespace) -> int:
    import yaml

    from ...kustomize import build, legacy_sort
    from ...load.tree import SourceTree

    target = Path(args.dir)
    if not target.exists():
        raise UsageError(f"{args.dir}: no such file or directory")
    root = Path(args.root) if args.root else _repository_root(target)
    tree = SourceTree(root)
    result = build(tree, tree.relpath(target), flux=args.flux, fallback=not args.no_fallback)
    if result.fallback:
        print(f"homeops: note: built with kubectl kustomize ({result.fallback})", file=sys.stderr)
    objects = [res.obj for res in legacy_sort(result.resources)]
    if args.output == "json":
        json.dump(objects, sys.stdout, indent=2, sort_keys=True, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(
            "---\n".join(yaml.safe_dump(obj, sort_keys=True, allow_unicode=True) for obj in objects)
        )
    return int(ExitCode.OK)


def _repository_root(target: Path) -> Path:
    """The nearest folder above ``target`` with a ``.git``; else the current folder when it holds
    ``target``; else the folder itself."""
    start = target.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    cwd = Path.cwd().resolve()
    if cwd == folder or cwd in folder.parents:
        return cwd
    return folder
