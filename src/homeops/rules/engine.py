"""Run the rule catalog over a Flux tree and apply the repository's configuration to the hits."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .. import parallel
from ..flux.tree import FluxTree
from .base import Finding, Hit, Rule, Severity
from .catalog import all_rules
from .config import Config
from .context import Context

_SUPPRESS = re.compile(r"#\s*homeops:\s*ignore(?:\s+([A-Za-z0-9_,\s-]+))?")


class RuleCrashed(Exception):
    """A rule raised: a bug in homeops, reported as such (with ``raise_errors`` it propagates)."""


def run_checks(
    flux: FluxTree,
    config: Config | None = None,
    *,
    select: Iterable[str] | None = None,
    raise_errors: bool = False,
) -> list[Finding]:
    """Every finding of the enabled rules, configured, suppressed where asked, sorted by place."""
    config = config or Config()
    ctx = Context(flux, config)
    chosen = set(select) if select is not None else None
    enabled: list[tuple[Rule, Severity]] = []
    for rule in all_rules():
        if chosen is not None and rule.id not in chosen and rule.name not in chosen:
            continue
        severity = (
            config.severities.get(rule.id, rule.severity) if rule.id in config.severities else rule.severity
        )
        if severity is not None:
            enabled.append((rule, severity))

    def hits_of(item: tuple[Rule, Severity]) -> list[tuple[str, int, str, str | None]]:
        rule = item[0]
        try:
            hits = list(rule.check(ctx))
        except Exception as exc:
            if raise_errors:
                raise
            message = (
                f"internal error in rule {rule.id} ({type(exc).__name__}: {exc}); please report this bug"
            )
            hits = [Hit("", 0, message)]
        if rule.one_per_line:
            hits = list({(hit.path, hit.line): hit for hit in reversed(hits)}.values())[::-1]
        return [(hit.path, hit.line, hit.message, hit.hint) for hit in hits]

    found: dict[str, list[tuple[str, int, str, str | None]]]
    if len(flux.documents) >= _PARALLEL_MIN_DOCUMENTS and not raise_errors:
        # A big repository's rules run on two cores, a family at a time: a family's rules share
        # what they compute (the schema validation, the image inventory), which the other process
        # would otherwise compute again. The helper takes families from the front of the list, this
        # process from the back, until they meet: the costly families go to the ends (the helper
        # starts with the dependency graph, this process with the image inventory and its lines),
        # the cheap ones to the middle, where the last to be taken should not keep one side waiting.
        families: dict[str, list[tuple[Rule, Severity]]] = {}
        for item in enabled:
            families.setdefault(item[0].family, []).append(item)
        order = sorted(families.values(), key=lambda f: _FAMILY_PLACE.get(f[0][0].family, 0))

        def family_hits(family: list[tuple[Rule, Severity]]) -> list[list[tuple[str, int, str, str | None]]]:
            return [hits_of(item) for item in family]

        done = parallel.run(order, family_hits, what="checking rules")
        found = {
            rule.id: hits for family, results in zip(order, done, strict=True)
            for (rule, _severity), hits in zip(family, results, strict=True)
        }  # fmt: skip
    else:
        found = {rule.id: hits_of((rule, severity)) for rule, severity in enabled}
    findings = [
        # a hit that names no fix of its own gets its rule's: every finding says what to do
        Finding(rule.id, rule.name, severity, path, line, message, hint or rule.fix)
        for rule, severity in enabled
        for path, line, message, hint in found[rule.id]
    ]
    findings = _unique(findings)
    ignored = config.ignore_rules
    if ignored:
        findings = [f for f in findings if not (f.path and ignored.ignores(f.path))]
    findings = _unsuppressed(flux, findings)
    findings = _through_templates(ctx, findings)
    return sorted(findings, key=Finding.sort_key)


_FAMILY_PLACE = {
    "dependencies": -4, "references": -3, "charts": -2, "reconciliation": -1,
    "schema": 1, "secrets": 2, "images": 3,
}  # fmt: skip
"""Where a family goes in the list the two sides share (others: 0, the middle); measured costs, from
the most costly at the ends."""

_PARALLEL_MIN_DOCUMENTS = 300
"""Below this many documents the rules take less time than starting a helper process."""


def _through_templates(ctx: Context, findings: list[Finding]) -> list[Finding]:
    """Findings in files ``homeops configure`` generated, pointed back at the template line."""
    from ..errors import HomeopsError

    try:
        ledger = ctx.ledger
    except HomeopsError:
        return findings  # reported by GEN001
    if ledger is None:
        return findings
    out = []
    for finding in findings:
        source = ledger.template_line(finding.path, finding.line) if finding.rule != "GEN001" else None
        if source is None:
            out.append(finding)
            continue
        template, line = source
        out.append(
            finding._replace(
                message=f"{finding.message} (generated from {template}:{line})",
                hint=f"fix {template}:{line} and run 'homeops configure'"
                + (f"; {finding.hint}" if finding.hint else ""),
            )
        )
    return out


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, int, str]] = set()
    out = []
    for finding in findings:
        key = (finding.rule, finding.path, finding.line, finding.message)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out


def _unsuppressed(flux: FluxTree, findings: list[Finding]) -> list[Finding]:
    lines_cache: dict[str, list[str]] = {}
    out = []
    for finding in findings:
        if not finding.path or finding.line <= 0:
            out.append(finding)
            continue
        lines = lines_cache.get(finding.path)
        if lines is None:
            try:
                lines = flux.tree.read_bytes(finding.path).decode("utf-8", "replace").splitlines()
            except OSError:
                lines = []
            lines_cache[finding.path] = lines
        text = lines[finding.line - 1] if finding.line <= len(lines) else ""
        match = _SUPPRESS.search(text)
        if match:
            listed = match.group(1)
            codes = {c.strip() for c in listed.split(",")} if listed else set()
            if not codes or finding.rule in codes or finding.name in codes:
                continue
        out.append(finding)
    return out
