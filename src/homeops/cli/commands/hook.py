"""``homeops hook``: install the Git pre-commit hook, and the check it runs (``hook run``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ...errors import ExitCode


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "hook",
        help="install the git pre-commit hook",
        description="A pre-commit hook that judges exactly what a commit records: staged secrets "
        "('homeops secrets check-staged') and the rule catalog over Git's index, reporting findings in "
        "the files the commit changes and findings it introduces elsewhere. With the pre-commit "
        "framework, use the hooks homeops-secrets and homeops-check of .pre-commit-hooks.yaml instead.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = actions.add_parser("install", help="write .git/hooks/pre-commit")
    p.add_argument("path", nargs="?", default=".", help="Git repository (default: .)")
    p.add_argument("--force", action="store_true", help="move a hook homeops did not write aside")
    p = actions.add_parser(
        "run",
        help="check what is staged (what the hook runs)",
        description="Check what is staged: secrets in the staged files, then every rule over a "
        "checkout of Git's index. Shows the findings in the files the commit changes and those it "
        "introduces elsewhere (compared with HEAD); older findings elsewhere do not block.",
        epilog="Exit codes: 0 commit allowed, 1 refused (a secret, or a finding at or above fail-on of "
        ".homeops.yaml), 2 not a Git repository.",
    )
    p.add_argument("path", nargs="?", default=".", help="Git repository (default: .)")


def run(args: argparse.Namespace) -> int:
    return _run_check(args) if args.action == "run" else _install(args)


def _install(args: argparse.Namespace) -> int:
    from ...hook import install

    result = install(args.path, force=args.force)
    print(result.path)
    if result.backup:
        print(f"the previous hook was moved to {result.backup}", file=sys.stderr)
    elif result.replaced:
        print("the homeops hook was updated", file=sys.stderr)
    return int(ExitCode.OK)


def _run_check(args: argparse.Namespace) -> int:
    from ... import resident

    delegated = resident.delegate(getattr(args, "argv", None), debug=args.debug)  # nobody waits for it
    if delegated is not None:
        return delegated
    from ...hook import check_commit
    from ...report.findings import summary_line, to_text
    from ...report.style import Style

    result = check_commit(args.path)
    for problem in result.secrets:
        print(problem)
    sys.stdout.write(
        to_text(list(result.findings), Style.for_stream(sys.stdout, getattr(args, "color", "auto")))
    )
    older = f"; {result.older} older finding(s) elsewhere not shown" if result.older else ""
    print(f"homeops pre-commit: {summary_line(list(result.findings))} (what this commit changes){older}",
          file=sys.stderr)  # fmt: skip
    if result.secrets:
        print(f"homeops: {len(result.secrets)} staged file(s) would publish a secret", file=sys.stderr)
    if result.refused:
        print(
            f"homeops: commit refused (findings at or above {result.fail_on.value}); "
            "fix them, or bypass once with git commit --no-verify",
            file=sys.stderr,
        )
        return int(ExitCode.FINDINGS)
    return int(ExitCode.OK)
