"""``homeops mode``: the seeds' mode switches (certificate issuer, app environment) as Git changes."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ...errors import ExitCode
from .add import Intermixed


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "mode",
        help="switch a mode (certificate issuer, app environment) as a Git change",
        description="Switch one of the seeds' modes with a minimal edit (only the value changes; comments "
        "and formatting are kept), print the diff, and optionally commit exactly that file.",
        epilog="Exit codes: 0 switched (or already in that mode: nothing changes), 2 not found, "
        "ambiguous, or a bad value, 3 the edit or the commit failed, 4 git missing.",
    )
    modes = parser.add_subparsers(dest="mode", metavar="MODE", required=True, parser_class=Intermixed)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--commit", action="store_true", help="commit the changed file (and only it) with git"
    )
    common.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    p = modes.add_parser(
        "cert-issuer",
        parents=[common],
        help="set CERT_ISSUER (found by content)",
        description="Set CERT_ISSUER where the repository defines it (the platform-settings "
        "or cluster-settings ConfigMap).",
    )
    p.add_argument(
        "value",
        choices=("letsencrypt-staging", "letsencrypt-prod"),
        metavar="ISSUER",
        help="letsencrypt-staging or letsencrypt-prod",
    )
    p.add_argument(
        "path",
        nargs="?",
        default=".",
        metavar="PATH",
        help="repository, or the folder of one cluster (default: .)",
    )
    p = modes.add_parser(
        "app-env",
        parents=[common],
        help="point an app's Kustomization at another overlay",
        description="Change spec.path of the Flux Kustomization that deploys NAME from "
        "…/NAME/overlays/<env> to the other environment.",
    )
    p.add_argument("app", metavar="NAME", help="app name (the folder under tenants/apps)")
    p.add_argument("env", choices=("staging", "prod"), metavar="ENV", help="staging or prod")
    p.add_argument("path", nargs="?", default=".", metavar="PATH", help="repository (default: .)")


def _show_diff(text: str, colour: str) -> None:
    from ...report.style import Style

    style = Style.for_stream(sys.stdout, colour)
    for line in text.splitlines(keepends=True):
        if line.startswith("+") and not line.startswith("+++"):
            line = style.green(line.rstrip("\n")) + "\n"
        elif line.startswith("-") and not line.startswith("---"):
            line = style.red(line.rstrip("\n")) + "\n"
        sys.stdout.write(line)


def run(args: argparse.Namespace) -> int:
    from ...scaffold import modes

    if args.mode == "cert-issuer":
        change = modes.cert_issuer_change(args.path, args.value)
    else:
        change = modes.app_env_change(args.path, args.app, args.env)
    if change.unchanged:
        already = f"in {change.new}" if args.mode == "app-env" else change.new
        print(f"{change.what} is already {already} ({change.shown_path}:{change.line}): nothing to change",
              file=sys.stderr)  # fmt: skip
        return int(ExitCode.OK)
    _show_diff(change.diff(), getattr(args, "color", "auto"))
    if args.dry_run:
        return int(ExitCode.OK)
    top = modes.ensure_clean(change) if args.commit else None
    modes.write(change)
    print(f"{change.what}: {change.old} → {change.new} in {change.shown_path}", file=sys.stderr)
    if top is not None:
        commit = modes.commit(change, top)
        print(f"committed {commit[:12]}: {change.message.splitlines()[0]}", file=sys.stderr)
    else:
        print("next: commit and push, then reconcile (or run again with --commit)", file=sys.stderr)
    return int(ExitCode.OK)
