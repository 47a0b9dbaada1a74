"""``homeops doctor [PATH]``: every failure scenario as a detection rule, with root cause and fix."""

from __future__ import annotations

import argparse
import sys

from ...errors import ExitCode
from .status import add_source_options, open_from_args


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "doctor",
        help="find the failure scenarios in a cluster, each with its root cause and fix",
        description="Run every failure scenario (crash-loop, helmrelease-stuck, externalsecret-sync, "
        "stale-secret, httproute, storage-claim, placeholder, dependency-chain, image-drift) over a live "
        "cluster or a snapshot; each problem names the affected object, its root cause (as 'why' finds it), "
        "the evidence and the fix. One page per scenario in docs/doctor/.",
        epilog="Exit codes: 0 no problem, 1 problems found, 2 usage error, 3 the cluster could not be read.",
    )
    parser.add_argument("path", nargs="?", default=".", help="repository folder (default: .)")
    parser.add_argument(
        "--output", "-o", choices=("text", "json", "sarif"), default="text", help="output format"
    )
    parser.add_argument("--select", metavar="IDS", help="comma-separated scenario ids to run")
    parser.add_argument("--write-docs", metavar="DIR", help="write the scenario pages to DIR and exit")
    add_source_options(parser)


def run(args: argparse.Namespace) -> int:
    from ...doctor.report import doctor_json, doctor_sarif, doctor_text
    from ...doctor.scenarios import BY_ID, run_scenarios
    from ...errors import UsageError
    from ...report.style import Style

    if args.write_docs:
        return _write_docs(args.write_docs)
    select = None
    if args.select:
        select = tuple(s.strip() for s in args.select.split(",") if s.strip())
        unknown = [s for s in select if s not in BY_ID]
        if unknown:
            raise UsageError(f"unknown scenario {', '.join(unknown)}", hint=f"scenarios: {', '.join(BY_ID)}")
    ctx = open_from_args(args)
    problems = run_scenarios(ctx, select)
    if args.output == "json":
        sys.stdout.write(doctor_json(problems))
    elif args.output == "sarif":
        origin = {}
        if ctx.repo is not None:
            origin = {ref: (res.origin.path, res.origin.line) for ref, res in ctx.repo.objects.items()}
        sys.stdout.write(doctor_sarif(problems, origin))
    else:
        sys.stdout.write(doctor_text(problems, Style.for_stream(sys.stdout, args.color)))
        print(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} ({ctx.view.snapshot.source})",
            file=sys.stderr,
        )
    return int(ExitCode.FINDINGS if problems else ExitCode.OK)


def _write_docs(folder: str) -> int:
    from ...doctor.report import scenario_index, scenario_page
    from ...doctor.scenarios import SCENARIOS
    from . import write_docs

    return write_docs(
        folder, {**{f"{s.id}.md": scenario_page(s) for s in SCENARIOS}, "README.md": scenario_index()}
    )
