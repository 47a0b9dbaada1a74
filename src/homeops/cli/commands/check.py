"""``homeops check [PATH]``: check a repository against the rule catalog."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ...errors import ExitCode

if TYPE_CHECKING:
    from ...rules.base import Finding
    from ...workspace import Workspace


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "check",
        help="check a repository against the homelab rules",
        description="Check a Flux homelab repository against the rule catalog ('homeops rules' lists it).",
        epilog="Exit codes: 0 no finding at or above --fail-on, 1 findings at or above it, 2 usage or "
        "configuration error. Suppress one line with a '# homeops:ignore RULE' comment on it.",
    )
    parser.add_argument("path", nargs="?", default=".", help="repository folder (default: .)")
    parser.add_argument(
        "--output", "-o", choices=("text", "json", "sarif", "github"), default="text", help="output format"
    )
    parser.add_argument(
        "--fail-on",
        choices=("error", "warning", "info", "none"),
        default=None,
        help="lowest severity that makes the exit code 1 (default: error, or fail-on in .homeops.yaml)",
    )
    parser.add_argument("--select", metavar="RULES", help="comma-separated rule ids or names to run")
    parser.add_argument(
        "--min-severity",
        choices=("error", "warning", "info"),
        default="info",
        help="hide findings below this severity",
    )
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the parse cache")


def run(args: argparse.Namespace) -> int:
    from ...errors import UsageError
    from ...report.findings import summary_line, to_github, to_json, to_sarif, to_text
    from ...report.style import Style
    from ...rules.base import Severity, at_or_above
    from ...rules.catalog import all_rules, find_rule
    from ...workspace import open_workspace

    workspace = open_workspace(args.path, use_cache=not args.no_cache)
    select = None
    if args.select:
        select = []
        for key in args.select.split(","):
            found = find_rule(key.strip())
            if found is None:
                raise UsageError(f"unknown rule {key.strip()!r}", hint="'homeops rules' lists every rule")
            select.append(found.id)
    findings, stats = _findings(workspace, select, use_cache=not args.no_cache)
    shown = at_or_above(findings, Severity(args.min_severity))
    output = sys.stdout
    if args.output == "json":
        output.write(to_json(shown))
    elif args.output == "sarif":
        output.write(to_sarif(shown, all_rules()))
    elif args.output == "github":
        output.write(to_github(shown))
    else:
        output.write(to_text(shown, Style.for_stream(sys.stdout, args.color)))
        print(
            f"{summary_line(shown)} (checked {stats['files']} files, "
            f"{stats['clusters']} cluster{'s' if stats['clusters'] != 1 else ''}, "
            f"{stats['kustomizations']} Kustomizations, {stats['helmreleases']} HelmReleases)",
            file=sys.stderr,
        )
        if stats["clusters"] == 0 and stats["templates"]:
            print(
                f"homeops: note: no Flux entry point found; {stats['templates']} template files "
                "(*.j2) — run 'homeops configure' to render them",
                file=sys.stderr,
            )
    fail_on = args.fail_on or workspace.config.fail_on.value
    if fail_on == "none":
        return int(ExitCode.OK)
    return int(ExitCode.FINDINGS if at_or_above(findings, Severity(fail_on)) else ExitCode.OK)


def _findings(
    workspace: Workspace, select: list[str] | None, *, use_cache: bool
) -> tuple[list[Finding], dict[str, int]]:
    """The findings of the whole repository, from the result cache when nothing changed."""
    from ...rules import results

    key = results.result_key(workspace.tree, select) if use_cache else None
    if key is not None:
        cached = results.load(key)
        if cached is not None:
            return cached.findings, cached.stats
    from ...rules.engine import run_checks

    flux = workspace.flux
    findings = run_checks(flux, workspace.config, select=select)
    stats = {
        "files": len(workspace.tree.files()),
        "clusters": len(flux.clusters),
        "kustomizations": len(flux.producers),
        "helmreleases": sum(1 for r in flux.objects if r.kind == "HelmRelease"),
        "templates": sum(1 for f in workspace.tree.files() if f.endswith(".j2")),
    }
    if key is not None:
        results.store(key, findings, stats)
    return findings, stats
