"""``homeops get ks|hr|images [PATH]``: list Flux Kustomizations, HelmReleases or images as a table."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from ...errors import ExitCode

_COLUMNS = {
    "ks": ("name", "namespace", "cluster", "path", "source", "depends_on", "status"),
    "hr": ("name", "namespace", "cluster", "chart", "version", "source", "kustomization"),
    "images": ("image", "tag", "digest", "cluster", "used_by"),
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


def run(args: argparse.Namespace) -> int:
    from ...inventory import helm_release_rows, image_rows, kustomization_rows
    from ...workspace import open_workspace

    workspace = open_workspace(args.path)
    what = {"kustomizations": "ks", "helmreleases": "hr"}.get(args.what, args.what)
    rows = {"ks": kustomization_rows, "hr": helm_release_rows, "images": image_rows}[what](workspace.flux)
    if args.cluster:
        rows = [r for r in rows if r.get("cluster") == args.cluster]
    if args.output == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        sys.stdout.write(table(rows, _COLUMNS[what]))
    return int(ExitCode.OK)


def table(rows: Sequence[dict[str, object]], columns: Sequence[str]) -> str:
    def cell(value: object) -> str:
        if isinstance(value, list):
            return ",".join(str(v) for v in value) or "-"
        return "-" if value in (None, "") else str(value)

    header = [c.upper().replace("_", " ") for c in columns]
    body = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in body]
    return "\n".join(lines) + "\n"
