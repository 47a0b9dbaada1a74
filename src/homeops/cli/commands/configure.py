"""``homeops configure [PATH]``: render templates, encrypt secrets, check, and write it all or nothing."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from ...errors import ExitCode, UsageError

if TYPE_CHECKING:
    from ...configure import ConfigureResult


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "configure",
        help="render templates, encrypt secrets and check, as one transaction",
        description="Render the repository's templates (makejinja.toml, .minijinja.toml), encrypt every "
        "rendered *.sops.* file, check the result, then write the outputs and .homeops/ledger.json "
        "together. On any failure or interruption nothing in the repository changes.",
        epilog="Exit codes: 0 written (or nothing to change), 1 the rendered repository has findings at or "
        "above fail-on (nothing written), 2 usage or input values, 3 a template, sops or a write failed, "
        "4 sops missing.",
    )
    parser.add_argument("path", nargs="?", default=".", help="repository root (default: .)")
    parser.add_argument("--dry-run", action="store_true", help="do everything but write nothing")
    parser.add_argument(
        "--no-encrypt", action="store_true", help="do not encrypt; rendered secrets are then not written"
    )
    parser.add_argument("--no-check", action="store_true", help="do not check the rendered repository")
    parser.add_argument(
        "-D",
        "--define",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="template variable: KEY=text, KEY:=JSON, or KEY alone for true (repeatable)",
    )
    parser.add_argument(
        "--allow-undefined",
        action="store_true",
        help="let undefined values print as empty text (makejinja's own behaviour)",
    )
    parser.add_argument("--output", "-o", choices=("text", "json"), default="text", help="summary format")
    parser.add_argument("-v", "--verbose", action="store_true", help="list unchanged files too")


def run(args: argparse.Namespace) -> int:
    from ...configure import ConfigureOptions, configure

    options = ConfigureOptions(
        dry_run=args.dry_run,
        encrypt=not args.no_encrypt,
        defines=_defines(args.define),
        allow_undefined=args.allow_undefined,
    )
    from ...rules import check_tree

    check = None if args.no_check else check_tree
    result = configure(args.path, options, check=check)
    for warning in result.warnings:
        _note(f"warning: {warning}")
    if args.output == "json":
        json.dump(_as_json(result), sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(_as_text(result, verbose=args.verbose, color=_color(args)))
    return int(ExitCode.OK)


def _defines(items: list[str]) -> dict[str, object]:
    defines: dict[str, object] = {}
    for item in items:
        if ":=" in item:
            key, raw = item.split(":=", 1)
            try:
                defines[key] = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise UsageError(f"-D {item}: the value after := is not JSON ({exc.msg})") from exc
        elif "=" in item:
            key, value = item.split("=", 1)
            defines[key] = value
        else:
            defines[item] = True
    return defines


def _color(args: argparse.Namespace) -> bool:
    choice = getattr(args, "color", "auto")
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


_MARKS = {"created": ("+", "32"), "changed": ("~", "33"), "unchanged": ("=", "2"), "skipped": ("-", "35")}


def _as_text(result: ConfigureResult, *, verbose: bool, color: bool) -> str:
    from ...configure import Status

    def paint(text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if color else text

    lines = [f"configure {result.repo_root} ({', '.join(result.setups)})"]
    for status in Status:
        reports = result.with_status(status)
        mark, code = _MARKS[status.value]
        lines.append(f"  {paint(f'{status.value:<10}', code)} {len(reports)}")
        if status is Status.UNCHANGED and not verbose:
            continue
        for report in reports:
            reason = f"  ({report.reason})" if report.reason else ""
            lines.append(f"    {paint(mark, code)} {report.path}{reason}")
    if result.rendered_only:
        lines.append(f"  rendered to validate, not kept: {len(result.rendered_only)}")
        lines.extend(f"    {path}" for path in result.rendered_only)
    if result.stale:
        lines.append("  no longer produced by any template (left in place):")
        lines.extend(f"    {path}" for path in result.stale)
    if result.dry_run:
        lines.append("  dry run: nothing was written")
    return "\n".join(lines) + "\n"


def _as_json(result: ConfigureResult) -> dict[str, object]:
    return {
        "repo": str(result.repo_root),
        "dry_run": result.dry_run,
        "setups": list(result.setups),
        "files": [{"path": f.path, "status": f.status.value, "reason": f.reason} for f in result.files],
        "warnings": list(result.warnings),
        "rendered_only": list(result.rendered_only),
        "stale": list(result.stale),
    }


def _note(text: str) -> None:
    print(f"homeops: {text}", file=sys.stderr)
