"""``homeops rules``: list the rule catalog, or write its documentation pages."""

from __future__ import annotations

import argparse
import json
import sys

from ...errors import ExitCode
from . import add_table_output


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "rules",
        help="list the rules of the catalog, or generate their documentation",
        description="The rules 'homeops check' runs: id, name, default severity, family and summary "
        "(severities and ignores are set in .homeops.yaml; a line opts out with '# homeops:ignore RULE').",
    )
    add_table_output(parser)
    parser.add_argument("--write-docs", metavar="DIR", help="write one Markdown page per rule into DIR")


def run(args: argparse.Namespace) -> int:
    from ...report.style import table, terminal_width
    from ...rules.catalog import all_rules
    from ...rules.docs import pages

    rules = all_rules()
    if args.write_docs:
        from . import write_docs

        return write_docs(args.write_docs, pages(rules))
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
