"""Output of status, why and doctor: text for people, JSON (the documented contract), SARIF."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..report.style import Style
from .scenarios import SCENARIOS, Problem, Scenario
from .states import BLOCKED, MISSING, READY, RECONCILING, RETRYING, STALLED, SUSPENDED
from .status import Row
from .view import Ref
from .why import Why, iso


def _ref_fields(ref: Ref) -> dict[str, str]:
    return {"kind": ref.kind, "namespace": ref.namespace, "name": ref.name}


def _colour(style: Style, state: str, text: str) -> str:
    if state == READY:
        return style.green(text)
    if state in (STALLED, MISSING, RETRYING):
        return style.red(text)
    if state in (BLOCKED, RECONCILING):
        return style.yellow(text)
    if state == SUSPENDED:
        return style.dim(text)
    return text


# -- status -----------------------------------------------------------------------------------------


def status_json(rows: Sequence[Row]) -> str:
    objects = []
    for row in rows:
        item: dict[str, Any] = {
            "cluster": row.cluster,
            **_ref_fields(row.ref),
            "state": row.state.state,
            "reason": row.state.reason,
            "revision": row.revision,
            "drift": row.drift,
            "phase": row.state.phase or None,
        }
        if row.state.attempt is not None:
            item["attempt"], item["attempts"] = row.state.attempt, row.state.attempts
        if row.waits_for is not None:
            item["waits_for"] = str(row.waits_for)
        objects.append(item)
    return json.dumps({"objects": objects}, indent=2) + "\n"


def status_text(rows: Sequence[Row], style: Style) -> str:
    if not rows:
        return ""
    names = [
        ("  " * r.depth) + f"{r.ref.kind}/{r.ref.namespace + '/' if r.ref.namespace else ''}{r.ref.name}"
        for r in rows
    ]
    width = max(len(n) for n in names)
    states = [r.state.label for r in rows]
    state_width = max(len(s) for s in states)
    lines = [f"{'OBJECT'.ljust(width)}  {'STATE'.ljust(state_width)}  REASON"]
    for row, name, state in zip(rows, names, states, strict=True):
        detail = row.state.reason
        if row.waits_for is not None:
            detail = f"{detail}: waits for {row.waits_for}" if detail else f"waits for {row.waits_for}"
        extras = [e for e in (_short(row.revision), row.drift) if e]
        tail = f"  [{', '.join(extras)}]" if extras else ""
        lines.append(
            f"{name.ljust(width)}  {_colour(style, row.state.state, state.ljust(state_width))}  "
            f"{detail}{tail}"
        )
    return "\n".join(lines) + "\n"


def _short(revision: str | None) -> str | None:
    if revision and "@sha1:" in revision:
        branch, sha = revision.split("@sha1:", 1)
        return f"{branch}@{sha[:8]}"
    return revision


# -- why --------------------------------------------------------------------------------------------


def why_json(found: Why) -> str:
    chain = [
        {
            **_ref_fields(hop.ref),
            "state": hop.state.state,
            "reason": hop.state.reason,
            "phase": hop.state.phase or None,
            "evidence": list(hop.evidence),
            "via": hop.via or None,
        }
        for hop in found.chain
    ]
    upcoming = {"action": found.next.action, "at": iso(found.next.at)} if found.next else None
    return json.dumps({"chain": chain, "next": upcoming}, indent=2) + "\n"


def why_text(found: Why, style: Style) -> str:
    lines = []
    for depth, hop in enumerate(found.chain):
        arrow = "" if depth == 0 else f"{'  ' * (depth - 1)}└─ {hop.via} → "
        label = _colour(style, hop.state.state, hop.state.label)
        lines.append(f"{arrow}{style.bold(str(hop.ref))}  {label}  {hop.state.reason}")
        pad = "  " * depth + "   "
        for line in hop.evidence:
            lines.append(f"{pad}{style.dim(line)}")
    if found.next is not None:
        when = f" (at {iso(found.next.at)})" if found.next.at else ""
        lines.append(f"next: {found.next.action}{when}")
    elif len(found.chain) == 1:
        lines.append("next: nothing to do — it is healthy")
    return "\n".join(lines) + "\n"


# -- doctor -----------------------------------------------------------------------------------------


def doctor_json(problems: Sequence[Problem]) -> str:
    payload = {
        "problems": [
            {
                "scenario": p.scenario,
                "cluster": p.cluster,
                **_ref_fields(p.ref),
                "root_cause": {**_ref_fields(p.root.ref), "reason": p.root.state.reason},
                "evidence": list(p.evidence),
                "fix": p.fix,
            }
            for p in problems
        ]
    }
    return json.dumps(payload, indent=2) + "\n"


def doctor_text(problems: Sequence[Problem], style: Style) -> str:
    lines: list[str] = []
    for p in problems:
        if lines:
            lines.append("")
        root = "" if p.root.ref == p.ref else f" ← root cause {style.bold(str(p.root.ref))}"
        lines.append(
            f"{style.red(p.scenario)} [{p.cluster}] {style.bold(str(p.ref))}{root} ({p.root.state.reason})"
        )
        for line in p.evidence:
            lines.append(f"    {style.dim(line)}")
        lines.append(f"    {style.dim('fix:')} {p.fix}")
    return "\n".join(lines) + ("\n" if lines else "")


def doctor_sarif(problems: Sequence[Problem], origin: dict[Ref, tuple[str, int]]) -> str:
    """SARIF 2.1.0 through the same writer as ``check``: a scenario is a rule, a problem a result at the
    object's place in Git (the repository root when it has none)."""
    from ..report.findings import to_sarif
    from ..rules.base import Finding, Severity

    rules = [_as_rule(s) for s in SCENARIOS]
    findings = []
    for p in problems:
        path, line = origin.get(p.ref, ("", 0))
        message = f"{p.ref}: root cause {p.root.ref} ({p.root.state.reason})"
        findings.append(Finding(p.scenario, BY_TITLE[p.scenario], Severity.ERROR, path, line, message, p.fix))
    return to_sarif(findings, rules)


BY_TITLE = {s.id: s.title for s in SCENARIOS}


def _as_rule(scenario: Scenario) -> Any:
    from ..rules.base import Rule, Severity

    return Rule(
        scenario.id,
        scenario.id,
        "doctor",
        Severity.ERROR,
        scenario.title,
        scenario.summary,
        scenario.why,
        scenario.example,
        "",
        scenario.fix,
        lambda ctx: iter(()),
    )


def scenario_page(scenario: Scenario) -> str:
    return f"""# `{scenario.id}`: {scenario.title}

{scenario.summary}

## Why it matters

{scenario.why}

## What homeops shows

```
{scenario.example}
```

Each problem names the object affected, its root cause (the end of `homeops why` from it), the
evidence along the way (conditions, events, container messages) and the fix.

## Fix

{scenario.fix}
"""


def scenario_index() -> str:
    lines = [
        "# doctor scenarios",
        "",
        "Generated from the scenario catalog (`homeops doctor --write-docs docs/doctor`); do not edit by "
        "hand.",
        "",
        "| Id | Scenario | What it finds |",
        "|---|---|---|",
    ]
    for s in SCENARIOS:
        lines.append(f"| [{s.id}]({s.id}.md) | {s.title} | {s.summary} |")
    return "\n".join(lines) + "\n"
