"""``homeops check [PATH]``: check a repository against the rule catalog.

An unchanged repository is answered from the result cache after one walk, with none of the rest of
homeops imported. Otherwise the YAML files start parsing on the other core at once, while this process
imports the modules that will read them (:mod:`homeops.load.prefetch`, :mod:`homeops.parallel`).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: this runs at start-up
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from typing import Any

    from ...load.walk import Walk
    from ...rules.base import Finding
    from ...rules.results import CachedCheck


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
    parser.add_argument(
        "--offline", action="store_true", help="remote kustomize bases only from the cache, no network"
    )


def run(args: argparse.Namespace) -> int:
    import gc

    # A check builds a whole repository's documents and frees little of it before it exits; at the
    # default thresholds the collector would walk them again and again (5-10% of a cold check), and
    # a cached answer would pay a full collection of what its imports made.
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        return _run(args)
    finally:
        gc.set_threshold(*thresholds)


def _run(args: argparse.Namespace) -> int:
    from ...load.walk import repository_root, walk
    from ...rules import results

    root = repository_root(args.path)
    handed = _handed(args, root)
    if handed is not None:
        walked, key = handed  # a resident process's caller walked, and missed the cache, a moment ago
    else:
        walked = walk(root)
        key = None
        if not args.no_cache:
            key = results.result_key(root, walked, args.select, offline=args.offline)
            cached = results.load(key)
            if cached is not None:
                return _replay(cached, key, args)
        from ... import resident

        # The resident process has every module imported: most of a small repository's cold check.
        delegated = resident.delegate(
            getattr(args, "argv", None), debug=args.debug, handed=_handing(root, walked, key)
        )
        if delegated is not None:
            return delegated
    cached = _with_progress(_check, root, walked, args)
    if key is not None:
        _store_afterwards(key, cached)
    return _print(cached, _variant(args), args)


def _handed(args: argparse.Namespace, root: str) -> tuple[Walk, str | None] | None:
    """The walk (and result key) of this repository that the caller of a resident process handed
    over with the request; None when there is none (or it is of another folder)."""
    handed = getattr(args, "handed", None)
    if not isinstance(handed, dict) or handed.get("root") != root:
        return None
    from ...load.walk import Walk

    walked = Walk.from_plain(handed.get("walk"))
    key = handed.get("key")
    if walked is None or not (key is None or isinstance(key, str)):
        return None
    return walked, key


def _handing(root: str, walked: Walk, key: str | None) -> dict[str, object]:
    """What :func:`_handed` reads back in the resident process: plain data, for ``marshal``."""
    return {"root": root, "walk": walked.plain(), "key": key}


def _store_afterwards(key: str, cached: CachedCheck) -> None:
    """Store the result for the next run once the output is out (:func:`homeops.cli.main.afterwards`)."""
    from ...rules import results
    from ..main import afterwards

    afterwards(lambda: results.store(key, cached))


def _variant(args: argparse.Namespace) -> str:
    """What the printed output depends on besides the findings."""
    if args.output != "text":
        return f"{args.output}:{args.min_severity}"
    from ...report.style import use_colour

    return f"text:{args.min_severity}:{'colour' if use_colour(sys.stdout, args.color) else 'plain'}"


def _print(cached: CachedCheck, variant: str, args: argparse.Namespace) -> int:
    out, err = cached.outputs[variant]
    sys.stdout.write(out)
    if err:
        sys.stderr.write(err)
    return cached.exits[args.fail_on or cached.fail_on]


def _replay(cached: CachedCheck, key: str, args: argparse.Namespace) -> int:
    """Print a stored result, rendering (and storing) this output variant first if it is new."""
    variant = _variant(args)
    if variant not in cached.outputs:
        cached.outputs[variant] = _render(cached.to_findings(), cached.stats, args)
        _store_afterwards(key, cached)
    return _print(cached, variant, args)


def _with_progress(check: Callable[..., CachedCheck], *args: Any) -> CachedCheck:
    """``check(*args)`` with a progress bar on stderr when it is a terminal and the run takes long."""
    isatty = getattr(sys.stderr, "isatty", None)
    if isatty is None or not isatty():
        return check(*args)  # no bar can show: spares loading ``report.style`` (machine outputs)
    from ... import progress
    from ...report.style import progress_bar

    bar = progress_bar(sys.stderr, delay=PROGRESS_AFTER)
    previous = progress.listen(bar)
    try:
        return check(*args)
    finally:
        progress.listen(previous)
        if bar is not None:
            bar(1, 1, "")


PROGRESS_AFTER = 0.5
"""Seconds a cold check runs before a progress bar shows (a fast one shows none)."""


def _check(root: str, walked: Walk, args: argparse.Namespace) -> CachedCheck:
    """Check the repository: the findings, their exit codes and the output asked for."""
    from ...load import prefetch
    from ...load.cache import ParseCache

    cache = None if args.no_cache else ParseCache(root)
    parsing = prefetch.start(root, walked, cache)
    # From here on a helper parses while this process imports what reads the documents; what only
    # the rules need is imported later, while another helper builds Kustomizations.
    from ... import parallel
    from ...load.tree import SourceTree
    from ...rules.base import Severity, at_or_above
    from ...rules.results import CachedCheck
    from ...workspace import open_workspace

    tree = SourceTree(root, cache=cache, walked=walked)
    if parsing is not None:
        tree.adopt(parsing)
    parallel.meanwhile(_import_rules)
    workspace = open_workspace(root, tree=tree, offline=args.offline, save_parse_cache=False)
    from ..main import afterwards

    afterwards(tree.save_cache)  # the next run's parse cache: nobody waits for it
    select = _selected_rules(args.select) if args.select else None
    flux = workspace.flux
    parallel.catch_up()
    from ...rules.engine import run_checks

    findings = run_checks(flux, workspace.config, select=select)
    stats = {
        "files": len(tree.files()),
        "clusters": len(flux.clusters),
        "kustomizations": len(flux.producers),
        "helmreleases": sum(1 for r in flux.objects if r.kind == "HelmRelease"),
        "templates": sum(1 for f in tree.files() if f.endswith(".j2")),
    }
    from ...errors import ExitCode

    exits = {
        threshold: int(ExitCode.FINDINGS if at_or_above(findings, Severity(threshold)) else ExitCode.OK)
        for threshold in ("error", "warning", "info")
    }
    exits["none"] = int(ExitCode.OK)  # the answer needs no ``homeops.errors`` (and its ``enum``)
    import time

    expires = flux.network_expiry(time.time())
    cached = CachedCheck.of(findings, stats, workspace.config.fail_on.value, exits, expires)
    cached.outputs[_variant(args)] = _render(findings, stats, args)
    return cached


def _import_rules() -> None:
    from ...report import findings  # noqa: F401  (imported for later: see _check)
    from ...rules import engine  # noqa: F401
    from ...rules.catalog import all_rules

    all_rules()


def _selected_rules(select: str) -> list[str]:
    from ...errors import UsageError
    from ...rules.catalog import find_rule

    ids = []
    for key in select.split(","):
        found = find_rule(key.strip())
        if found is None:
            raise UsageError(f"unknown rule {key.strip()!r}", hint="'homeops rules' lists every rule")
        ids.append(found.id)
    return ids


NOTHING_FLUX_SHAPED = (
    "homeops: note: nothing Flux-shaped found (no Flux Kustomization, FluxInstance or gotk-sync.yaml)"
)


def _render(findings: list[Finding], stats: dict[str, int], args: argparse.Namespace) -> list[str]:
    """[stdout, stderr] of one output variant."""
    from ...report.findings import summary_line, to_github, to_json, to_sarif, to_text
    from ...rules.base import Severity, at_or_above
    from ...rules.catalog import all_rules

    shown = at_or_above(findings, Severity(args.min_severity))
    if args.output == "json":
        return [to_json(shown), ""]
    if args.output == "sarif":
        return [to_sarif(shown, all_rules()), ""]
    if args.output == "github":
        return [to_github(shown), ""]
    clusters = stats["clusters"]
    err = (
        f"{summary_line(shown)} (checked {stats['files']} files, "
        f"{clusters} cluster{'s' if clusters != 1 else ''}, "
        f"{stats['kustomizations']} Kustomizations, {stats['helmreleases']} HelmReleases)\n"
    )
    if clusters == 0:
        err += NOTHING_FLUX_SHAPED
        if stats["templates"]:
            err += f"; {stats['templates']} template files (*.j2): 'homeops configure' renders them"
        err += "\n"
    from ...report.style import Style

    return [to_text(shown, Style.for_stream(sys.stdout, args.color)), err]
