"""Findings as text for people, JSON for programs, SARIF for code scanning, GitHub annotations."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from .. import __version__
from ..rules.base import Finding, Rule, Severity

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: machine formats need no Style
if TYPE_CHECKING:
    from .style import Style

FORMATS = ("text", "json", "sarif", "github")


def summary_counts(findings: Sequence[Finding]) -> dict[str, int]:
    counts = Counter(f.severity.value for f in findings)
    return {s.value: counts.get(s.value, 0) for s in Severity}


def to_text(findings: Sequence[Finding], style: Style) -> str:
    """Grouped by file: ``path:line RULE severity: message`` with the fix on the next line."""
    lines: list[str] = []
    colours = {Severity.ERROR: style.red, Severity.WARNING: style.yellow, Severity.INFO: style.blue}
    for path, group in groupby(findings, key=lambda f: f.path):
        if lines:
            lines.append("")
        for finding in group:
            place = f"{path or '<repository>'}:{finding.line}" if finding.line else (path or "<repository>")
            severity = colours[finding.severity](finding.severity.value)
            lines.append(f"{style.bold(place)} {style.dim(finding.rule)} {severity}: {finding.message}")
            if finding.hint:
                lines.append(f"    {style.dim('fix:')} {finding.hint}")
    return "\n".join(lines) + ("\n" if lines else "")


def summary_line(findings: Sequence[Finding]) -> str:
    counts = summary_counts(findings)
    files = len({f.path for f in findings})
    parts = [f"{counts[s.value]} {s.value}{'s' if counts[s.value] != 1 else ''}" for s in Severity]
    return f"{', '.join(parts)} in {files} file{'s' if files != 1 else ''}"


def to_json(findings: Sequence[Finding]) -> str:
    """The stable contract: ``{"findings": [{rule, severity, path, line, message, …}], "summary": …}``."""
    payload = {
        "findings": [
            {
                "rule": f.rule,
                "severity": f.severity.value,
                "path": f.path,
                "line": max(f.line, 1),
                "message": f.message,
                "name": f.name,
                "hint": f.hint,
            }
            for f in findings
        ],
        "summary": summary_counts(findings),
    }
    return json.dumps(payload, indent=2, sort_keys=False) + "\n"


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def to_sarif(findings: Sequence[Finding], rules: Sequence[Rule]) -> str:
    """SARIF 2.1.0, one run, every catalog rule described (for GitHub code scanning)."""
    rule_index = {rule.id: i for i, rule in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f.message + (f" Fix: {f.hint}" if f.hint else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.path or ".", "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": max(f.line, 1)},
                    }
                }
            ],
        }
        if f.rule in rule_index:
            result["ruleIndex"] = rule_index[f.rule]
        results.append(result)
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "homeops",
                        "version": __version__,
                        "rules": [
                            {
                                "id": rule.id,
                                "name": rule.name,
                                "shortDescription": {"text": rule.summary},
                                "fullDescription": {"text": rule.why},
                                "help": {"text": rule.fix},
                                "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
                                "properties": {"tags": [rule.family]},
                            }
                            for rule in rules
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def to_github(findings: Sequence[Finding]) -> str:
    """GitHub Actions workflow commands, one annotation per finding."""
    lines = []
    for f in findings:
        props = []
        if f.path:
            props.append(f"file={_escape_property(f.path)}")
            if f.line:
                props.append(f"line={f.line}")
        props.append(f"title={_escape_property(f'{f.rule} {f.name}')}")
        message = f.message + (f" (fix: {f.hint})" if f.hint else "")
        lines.append(f"::{_GITHUB_LEVEL[f.severity]} {','.join(props)}::{_escape_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")
