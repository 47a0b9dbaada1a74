"""``homeops machines [KIND]``: the runtime state machines, or their generated documentation pages."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ...errors import ExitCode, UsageError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "machines",
        help="show the runtime state machines (Flux, External Secrets, pods, routes, claims)",
        description="The state machines homeops simulates and reads live objects with: states, how to "
        "recognise them, transitions, timers and domain events.",
    )
    parser.add_argument("kind", nargs="?", help="one machine, by kind (HelmRelease, Pod, ...)")
    parser.add_argument("--output", "-o", choices=("table", "json", "mermaid"), default="table")
    parser.add_argument("--write-docs", metavar="DIR", help="write one Markdown page per machine into DIR")


def run(args: argparse.Namespace) -> int:
    from ...fsutil import atomic_write
    from ...report.style import table, terminal_width
    from ...runtime.docs import mermaid, pages
    from ...runtime.machines import ALL, MACHINES

    if args.write_docs:
        folder = Path(args.write_docs)
        written = pages()
        for name, content in written.items():
            atomic_write(folder / name, content)
        print(f"wrote {len(written)} pages to {folder}", file=sys.stderr)
        return int(ExitCode.OK)
    machines = list(ALL)
    if args.kind:
        found = {k.lower(): m for k, m in MACHINES.items()}.get(args.kind.lower())
        if found is None:
            raise UsageError(
                f"no machine for kind {args.kind!r}", hint=f"kinds: {', '.join(sorted(MACHINES))}"
            )
        machines = [found]
    if args.output == "mermaid":
        sys.stdout.write("\n".join(mermaid(m) for m in machines))
    elif args.output == "json":
        payload = [
            {
                "kind": m.kind,
                "api": m.api,
                "initial": m.initial,
                "states": [
                    {
                        "name": s.name,
                        "health": s.health,
                        "final": s.final,
                        "recognised_by": [r.text() for r in m.recognise if r.state == s.name],
                    }
                    for s in m.states
                ],
                "transitions": [
                    {
                        "from": t.source,
                        "to": t.target,
                        "trigger": t.trigger,
                        "guard": t.guard,
                        "timer": t.timer,
                        "reason": t.reason,
                        "emits": list(t.emits),
                    }
                    for t in m.transitions
                ],
                "timers": [
                    {
                        "name": t.name,
                        "default": t.default,
                        "cap": t.cap,
                        "fields": list(t.fields),
                        "source": t.source,
                    }
                    for t in m.timers
                ],
                "events": list(m.events),
            }
            for m in machines
        ]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        rows: list[dict[str, object]] = [
            {"kind": m.kind, "states": " ".join(s.name for s in m.states), "events": " ".join(m.events)}
            for m in machines
        ]
        sys.stdout.write(table(rows, ("kind", "states", "events"), width=terminal_width(sys.stdout)))
    return int(ExitCode.OK)
