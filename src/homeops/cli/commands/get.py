"""``homeops get ks|hr|images [PATH]``: list Flux Kustomizations, HelmReleases or images as a table."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...workspace import Workspace

from ...errors import ExitCode, UsageError
from ...report.style import table  # noqa: F401  (moved to report.style; importable here for callers)

_COLUMNS = {
    "ks": ("name", "namespace", "cluster", "path", "source", "depends_on", "status"),
    "hr": ("name", "namespace", "cluster", "chart", "version", "source", "kustomization"),
    "images": ("image", "tag", "digest", "cluster", "used_by"),
    "unreached": ("name", "namespace", "file", "line", "reason"),
}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "get",
        help="list Flux Kustomizations, HelmReleases or images",
        description="List what the repository's clusters apply.",
    )
    parser.add_argument(
        "what",
        choices=("ks", "kustomizations", "hr", "helmreleases", "images"),
        help="ks: Flux Kustomizations; hr: HelmReleases; images: every image the cluster runs",
    )
    parser.add_argument("path", nargs="?", default=".", help="repository folder (default: .)")
    parser.add_argument("--output", "-o", choices=("table", "json"), default="table")
    parser.add_argument("--cluster", help="only this cluster")
    parser.add_argument(
        "--rendered",
        action="store_true",
        help="images: render the HelmReleases (Helm's Go SDK) and list what the charts run, including "
        "images the charts bring themselves; releases that cannot be rendered fall back to their values",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="use only homeops' caches (remote kustomize bases; charts with --rendered), never the network",
    )
    parser.add_argument(
        "--unreached",
        action="store_true",
        help="ks, hr: the ones written in the repository that no cluster applies, and why",
    )


def run(args: argparse.Namespace) -> int:
    from ...inventory import helm_release_rows, image_rows, kustomization_rows
    from ...workspace import open_workspace

    workspace = open_workspace(args.path, offline=args.offline)
    what = {"kustomizations": "ks", "helmreleases": "hr"}.get(args.what, args.what)
    if args.unreached:
        if what == "images":
            raise UsageError(
                "--unreached lists Kustomizations or HelmReleases", hint="homeops get ks --unreached"
            )
        from ...inventory import unreached_rows

        rows = unreached_rows(workspace.flux, "Kustomization" if what == "ks" else "HelmRelease")
        what = "unreached"
    elif what == "images" and args.rendered:
        rows = image_rows(workspace.flux, _rendered_releases(workspace, offline=args.offline))
    else:
        rows = {"ks": kustomization_rows, "hr": helm_release_rows, "images": image_rows}[what](workspace.flux)
    if args.cluster:
        rows = [r for r in rows if r.get("cluster") == args.cluster]
    if args.output == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        from ...report.style import table, terminal_width

        sys.stdout.write(table(rows, _COLUMNS[what], width=terminal_width(sys.stdout)))
    return int(ExitCode.OK)


def _rendered_releases(workspace: Workspace, *, offline: bool) -> dict[tuple[str, str], Sequence[Any]]:
    """(cluster, producer) → rendered objects of every HelmRelease that renders; notes on the rest."""
    from ...render.flux import FolderFiles, RenderOptions, releases_of, render
    from ...render.snapshot import Snapshot

    snapshot = Snapshot.of(workspace.flux)
    results = render(snapshot, FolderFiles(workspace.root), kustomizations=[], releases=releases_of(snapshot),
                     options=RenderOptions(offline=offline))  # fmt: skip
    out: dict[tuple[str, str], Sequence[Any]] = {}
    for result in results:
        if result.failed:
            print(f"homeops: note: {result.producer}: {result.error}; listing the images its values name",
                  file=sys.stderr)  # fmt: skip
        elif result.kind == "HelmRelease":
            out[(result.cluster, result.producer)] = result.objects
    return out
