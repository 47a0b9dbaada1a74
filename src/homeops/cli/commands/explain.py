"""``homeops explain FILE``: why Flux applies a file, or why it does not."""

from __future__ import annotations

import argparse
import json
import os
import sys

from ...errors import ExitCode, UsageError
from . import add_offline


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "explain",
        help="say why a file is or is not applied by Flux",
        description="Say why Flux applies a file of the repository (which Kustomization, in which "
        "cluster, as what), or why it does not (excluded by .sourceignore, not listed in a "
        "kustomization.yaml, under no path a cluster reaches, not tracked by Git, a template…). "
        "A folder explains every file in it.",
    )
    parser.add_argument("file", help="a file or folder of the repository")
    parser.add_argument(
        "--repo",
        help="the repository folder (default: the nearest folder above FILE that holds .git or "
        ".homeops.yaml, else the current folder)",
    )
    parser.add_argument("--output", "-o", choices=("text", "json"), default="text")
    add_offline(parser)


def run(args: argparse.Namespace) -> int:
    from ...flux.reasons import explain
    from ...workspace import open_workspace

    if not os.path.exists(args.file):
        raise UsageError(f"{args.file}: no such file or folder")
    workspace = open_workspace(args.repo or _repository_of(args.file), offline=args.offline)
    rel = workspace.tree.relpath(args.file)
    if os.path.isdir(args.file):
        prefix = f"{rel}/" if rel else ""
        paths = [f for f in workspace.tree.files() if f.startswith(prefix)]
    else:
        paths = [rel]
    answers = {path: explain(workspace.flux, path) for path in paths}
    if args.output == "json":
        rows = [
            {"path": path, "reasons": [r.to_json() for r in reasons]} for path, reasons in answers.items()
        ]
        sys.stdout.write(json.dumps(rows if os.path.isdir(args.file) else rows[0], indent=2) + "\n")
        return int(ExitCode.OK)
    lines = []
    for path, reasons in answers.items():
        lines.append(path)
        lines.extend(f"  {reason.status}: {reason.message}" for reason in reasons)
    sys.stdout.write("\n".join(lines) + ("\n" if lines else ""))
    if not workspace.flux.clusters:
        from .check import NOTHING_FLUX_SHAPED

        sys.stderr.write(f"{NOTHING_FLUX_SHAPED}: Flux applies nothing here\n")
    elif workspace.flux.guessed:
        sys.stderr.write("homeops: note: no Flux entry point found; the clusters' roots are guessed\n")
    return int(ExitCode.OK)


def _repository_of(path: str) -> str:
    """The nearest folder at or above ``path`` with a ``.git`` or a ``.homeops.yaml`` (which lives at a
    repository's root: it marks one kept inside another Git checkout), else the current folder."""
    current = os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path) or ".")
    while True:
        if any(os.path.exists(os.path.join(current, marker)) for marker in (".git", ".homeops.yaml")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return "."
        current = parent
