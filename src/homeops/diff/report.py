"""A diff of renders as text for a terminal, a unified diff, a pull-request comment, or JSON."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from html import escape
from typing import Any

from ..report.style import Style
from ..yamlout import dump_yaml
from .objects import MISSING, DiffResult, FieldChange, ObjectChange, ProducerFailure

_SYMBOL = {"added": "+", "removed": "-", "changed": "~"}


def field_path(change: FieldChange) -> str:
    """The changed field as people read it: ``spec.containers[name=app].image``."""
    parts: list[str] = []
    for part in change.path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part.startswith("[") and part.endswith("]"):
            parts.append(part)  # keyed list marker, e.g. [name]
        elif parts and parts[-1].startswith("[") and parts[-1].endswith("]") and "=" not in parts[-1]:
            parts[-1] = f"[{parts[-1][1:-1]}={part}]"
        else:
            parts.append(("." if parts else "") + part)
    return "".join(parts)


def value_text(value: Any) -> str:
    """A field's value on one side, short (JSON, cut at 120 characters), ``(absent)`` when missing."""
    if value is MISSING:
        return "(absent)"
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def failure_text(failure: ProducerFailure) -> str:
    """One line naming a producer that could not be rendered on one side, and why."""
    return f"{failure.producer}: could not render the {failure.side} side: {failure.error}"


def failures_json(result: DiffResult) -> list[dict[str, str]]:
    return [{"producer": f.producer, "side": f.side, "error": f.error} for f in result.failures]


def to_text(result: DiffResult, style: Style) -> str:
    lines: list[str] = []
    for failure in result.failures:
        lines.append(style.red(f"! {failure_text(failure)}"))
    for producer, changes in sorted(result.by_producer().items()):
        lines.append(style.bold(producer))
        for change in changes:
            colour = {"added": style.green, "removed": style.red, "changed": style.yellow}[change.status]
            lines.append(colour(f"  {_SYMBOL[change.status]} {change.key}"))
            if change.note:
                lines.append(style.yellow(f"      note: {change.note}"))
            for field in change.fields:
                lines.append(
                    f"      {field_path(field)}: {value_text(field.before)} → {value_text(field.after)}"
                )
    if not lines:
        lines.append("no changes")
    return "\n".join(lines) + "\n"


def unified(change: ObjectChange) -> str:
    before = dump_yaml(change.before) if change.before is not None else ""
    after = dump_yaml(change.after) if change.after is not None else ""
    name = str(change.key)
    note = f"# note: {change.key}: {change.note}\n" if change.note else ""
    return note + "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{name}" if change.before is not None else "/dev/null",
            tofile=f"b/{name}" if change.after is not None else "/dev/null",
        )
    )


def to_unified(result: DiffResult) -> str:
    parts = [f"# {failure_text(f)}\n" for f in result.failures]
    parts += [unified(change) for change in result.changes]
    return "".join(parts)


def to_markdown(result: DiffResult, *, title: str = "homeops diff") -> str:
    """A pull-request comment: a summary table, then one collapsible section per changed producer."""
    lines = [f"### {title}", ""]
    grouped = result.by_producer()
    if result.empty:
        lines.append("No changes to what Flux applies.")
        return "\n".join(lines) + "\n"
    lines += ["| Producer | Added | Changed | Removed |", "|---|---:|---:|---:|"]
    for producer, changes in sorted(grouped.items()):
        counts = {s: sum(1 for c in changes if c.status == s) for s in ("added", "changed", "removed")}
        numbers = f"{counts['added']} | {counts['changed']} | {counts['removed']}"
        lines.append(f"| {markdown_cell(producer)} | {numbers} |")
    for failure in result.failures:
        lines.append(f"| {markdown_cell(failure.producer)} | ⚠️ {failure.side} failed to render | | |")
    lines.append("")
    lines += markdown_failures(result)
    for producer, changes in sorted(grouped.items()):
        body = "".join(unified(c) for c in changes)
        fence = _fence(body)
        count = f"{len(changes)} object{'s' if len(changes) != 1 else ''}"
        lines += [
            "<details>",
            f"<summary>{escape(producer)} ({count})</summary>",
            "",
            f"{fence}diff",
            body.rstrip("\n"),
            fence,
            "</details>",
            "",
        ]
    return "\n".join(lines)


# Names, values and messages come from the repository, and the comment is posted by a bot: nothing in
# them may close a code block, a cell or a summary and add markup of its own (an image, a link).


def markdown_cell(text: str) -> str:
    """``text`` as a code span in a table cell: longer backtick delimiters than any run inside it,
    ``|`` escaped, on one line; inside a code span ``<``, ``[`` and ``!`` are shown, never markup."""
    flat = " ".join(text.splitlines()).replace("|", "\\|")
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


def _fence(body: str) -> str:
    """A code fence longer than any run of backticks in ``body``, which therefore cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def markdown_failures(result: DiffResult) -> list[str]:
    """One collapsible section per producer that could not be rendered on a side, with the error."""
    lines: list[str] = []
    for failure in result.failures:
        fence = _fence(failure.error)
        lines += [
            "<details>",
            f"<summary>⚠️ {escape(failure.producer)}: {failure.side} failed to render</summary>",
            "",
            fence,
            failure.error,
            fence,
            "</details>",
            "",
        ]
    return lines


def to_json(result: DiffResult) -> str:
    def change_json(change: ObjectChange) -> Mapping[str, Any]:
        return {
            "producer": change.producer,
            "status": change.status,
            "group": change.key.group,
            "kind": change.key.kind,
            "namespace": change.key.namespace,
            "name": change.key.name,
            "note": change.note,
            "fields": [
                {
                    "path": field_path(f),
                    "before": None if f.before is MISSING else f.before,
                    "after": None if f.after is MISSING else f.after,
                }
                for f in change.fields
            ],
        }

    payload = {
        "changes": [change_json(c) for c in result.changes],
        "failures": failures_json(result),
        "unchanged": result.unchanged,
    }
    return json.dumps(payload, indent=2, default=str) + "\n"
