"""``homeops rules``: list the rule catalog, or write its documentation pages."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ...errors import ExitCode


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("rules", help="list the rules of the catalog, or generate their documentation")
    parser.add_argument("--output", "-o", choices=("table", "json"), default="table")
    parser.add_argument("--write-docs", metavar="DIR", help="write one Markdown page per rule into DIR")


def run(args: argparse.Namespace) -> int:
    from ...fsutil import atomic_write
    from ...report.style import table, terminal_width
    from ...rules.catalog import all_rules
    from ...rules.docs import pages

    rules = all_rules()
    if args.write_docs:
        folder = Path(args.write_docs)
        for name, content in pages(rules).items():
            atomic_write(folder / name, content)
        print(f"wrote {len(rules) + 1} pages to {folder}", file=sys.stderr)
        return int(ExitCode.OK)
    rows: list[dict[str, object]] = [
        {"id": r.id, "name": r.name, "severity": r.severity.value, "family": r.family, "summary": r.summary}
        for r in rules
    ]
    if args.output == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        columns = ("id", "name", "severity", "family", "summary")
        sys.stdout.write(table(rows, columns, width=terminal_width(sys.stdout)))
    return int(ExitCode.OK)
