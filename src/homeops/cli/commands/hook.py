"""``homeops hook install``: the Git pre-commit hook that refuses to commit secrets."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ...errors import ExitCode


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "hook",
        help="install the git pre-commit hook",
        description="Install a pre-commit hook that runs 'homeops secrets check-staged' and, when "
        "available, 'homeops check --fail-on error .'. With the pre-commit framework, use the hooks "
        "homeops-secrets and homeops-check of .pre-commit-hooks.yaml instead.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = actions.add_parser("install", help="write .git/hooks/pre-commit")
    p.add_argument("path", nargs="?", default=".", help="Git repository (default: .)")
    p.add_argument("--force", action="store_true", help="move a hook homeops did not write aside")


def run(args: argparse.Namespace) -> int:
    from ...hook import install

    result = install(args.path, force=args.force)
    print(result.path)
    if result.backup:
        print(f"the previous hook was moved to {result.backup}", file=sys.stderr)
    elif result.replaced:
        print("the homeops hook was updated", file=sys.stderr)
    return int(ExitCode.OK)
