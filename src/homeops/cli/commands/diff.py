"""``homeops diff [images] [PATH]``: what Flux would change, between a base revision and the working tree.

The base is ``--base REF`` (a Git revision), ``--path-orig DIR`` (another folder), or by default the
merge-base of HEAD with its upstream branch (falling back to origin/main, main, master). Only the
producers the changed files reach are rendered unless ``--all``. ``diff images`` lists the images
added and removed instead of the objects.

Exit codes (like diff(1)): 0 no differences, 1 differences, 3 a producer failed to render on either
side (its objects are not compared; the failure is reported, never shown as a deletion), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from ...errors import ExitCode, UsageError
from .build import add_render_options, render_options, report_warnings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "diff",
        help="render two revisions and show what Flux would change",
        description="Render the base revision and the working tree and compare what Flux would apply, "
        "object by object.",
        epilog="'homeops diff images [PATH]' compares the images instead. Exit codes: 0 no differences, "
        "1 differences, 3 a producer failed to render on a side, 2 usage error.",
    )
    parser.add_argument(
        "args",
        nargs="*",
        metavar="[images] [PATH]",
        help="'images' to compare images; the repository folder (default: .)",
    )
    base = parser.add_mutually_exclusive_group()
    base.add_argument(
        "--base",
        metavar="REF",
        help="Git revision to compare with (default: the merge-base "
        "of HEAD and its upstream, else origin/main, main, master)",
    )
    base.add_argument("--path-orig", metavar="DIR", help="compare with another folder instead of a revision")
    parser.add_argument(
        "--output",
        "-o",
        choices=("text", "unified", "markdown", "json", "html"),
        default="text",
        help="html: one self-contained page (redirect it to a file)",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="FIELD",
        help="also ignore this field (dotted, '*' for one segment: metadata.labels.team); "
        "repeatable. Chart labels and checksums are ignored by default",
    )
    parser.add_argument("--all", action="store_true", help="render every producer, not only the changed ones")
    add_render_options(parser)


def _split(args: Sequence[str]) -> tuple[bool, str]:
    images = bool(args) and args[0] == "images"
    rest = list(args[1:] if images else args)
    if len(rest) > 1:
        raise UsageError("too many arguments", hint="homeops diff [images] [PATH]")
    return images, rest[0] if rest else "."


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ...diff.report import to_json, to_markdown, to_text, to_unified
    from ...diff.revisions import diff_revisions, images_diff
    from ...report.style import Style, progress_bar
    from ...rules.config import load_config

    images, path = _split(args.args)
    if not Path(path).is_dir():
        raise UsageError(f"{path}: not a directory")
    config = load_config(Path(path).resolve())
    options = render_options(args, config.kubernetes_version)
    outcome = diff_revisions(
        path,
        base_ref=args.base,
        path_orig=args.path_orig,
        options=options,
        all_producers=args.all,
        ignore=args.ignore,
        show_secrets=args.show_secrets,
        progress=progress_bar(sys.stderr),
    )
    _summary(outcome)
    failed = bool(outcome.result.failures)
    if images:
        found = images_diff(outcome.base, outcome.head)
        sys.stdout.write(_images_output(found, args.output, outcome.result))
        changed = bool(found.added or found.removed)
    else:
        result = outcome.result
        title = f"homeops diff against {outcome.base_label}"
        output = {
            "text": lambda: to_text(result, Style.for_stream(sys.stdout, args.color)),
            "unified": lambda: to_unified(result),
            "markdown": lambda: to_markdown(result, title=title),
            "json": lambda: to_json(result),
            "html": lambda: _html(result, title),
        }[args.output]()
        sys.stdout.write(output)
        changed = bool(result.changes)
    if failed:
        return int(ExitCode.FAILURE)
    return int(ExitCode.FINDINGS if changed else ExitCode.OK)


def _html(result: Any, title: str) -> str:
    from ...report.html.diff import diff_page

    return diff_page(result, title=title)


def _summary(outcome: Any) -> None:
    selection = outcome.selection
    what = "every producer"
    if selection is not None:
        what = (f"{len(selection.kustomizations)} Kustomization(s) and {len(selection.releases)} "
                f"HelmRelease(s) reached by {len(outcome.changes.all)} changed file(s)")  # fmt: skip
        if selection.unbuilt:
            what += (f", including {len(selection.unbuilt)} Kustomization(s) that cannot be built "
                     "(the files they read are unknown, so every change may reach them)")  # fmt: skip
    print(f"homeops: compared with {outcome.base_label}: rendered {what}", file=sys.stderr)
    if selection is not None and selection.full_load:
        print(f"homeops: loaded the whole tree again: {selection.full_load}", file=sys.stderr)
    report_warnings(outcome.head, sys.stderr)
    for side, renders in (("base", outcome.base), ("head", outcome.head)):
        for r in renders:
            if r.error is None and r.placeholders:
                print(f"homeops: {r.producer} ({side}): rendered with placeholders: "
                      f"{'; '.join(r.placeholders)}", file=sys.stderr)  # fmt: skip


def _images_output(found: Any, output: str, result: Any) -> str:
    """The images added and removed, and the producers that could not be rendered on a side (their
    images are not compared)."""
    from ...diff.report import failure_text, failures_json, markdown_cell, markdown_failures

    def rows(items: Iterable[tuple[str, tuple[str, ...]]]) -> list[dict[str, Any]]:
        return [{"image": image, "producers": list(producers)} for image, producers in items]

    if output == "json":
        payload = {
            "added": rows(found.added),
            "removed": rows(found.removed),
            "failures": failures_json(result),
        }
        return json.dumps(payload, indent=2) + "\n"
    lines: list[str] = []
    if output == "markdown":
        lines += ["### homeops diff images", ""]
        if not found.added and not found.removed and not result.failures:
            return "\n".join([*lines, "No image changes.", ""])
        lines += ["| | Image | Used by |", "|---|---|---|"]
        lines += [f"| + | {markdown_cell(i)} | {markdown_cell(', '.join(p))} |" for i, p in found.added]
        lines += [f"| - | {markdown_cell(i)} | {markdown_cell(', '.join(p))} |" for i, p in found.removed]
        lines += [
            f"| ⚠️ | | {markdown_cell(f.producer)}: {f.side} failed to render |" for f in result.failures
        ]
        lines += ["", *markdown_failures(result)]
        return "\n".join(lines) + "\n"
    prefix = "# " if output == "unified" else "! "
    lines += [prefix + failure_text(f) for f in result.failures]
    lines += [f"+ {i}  ({', '.join(p)})" for i, p in found.added]
    lines += [f"- {i}  ({', '.join(p)})" for i, p in found.removed]
    return "\n".join(lines or ["no image changes"]) + "\n"
