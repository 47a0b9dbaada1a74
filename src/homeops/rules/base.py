"""What a rule is, what it reports, and the one registry every rule joins.

A rule is metadata (id, name, severity, the seed rule it enforces, its documentation) plus a check
function that yields :class:`Hit` s. The engine turns hits into :class:`Finding` s, applying the
repository's configuration (disabled rules, changed severities, ignored paths, inline suppressions).
The documentation pages in ``docs/rules/`` are generated from these objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from ..records import NamedTuple
from ..settings import Severity as Severity  # re-exported: rules and their callers import it here

if TYPE_CHECKING:
    from .context import Context


class Hit(NamedTuple):
    """One violation a rule found: where, what, and (optionally) how to fix it here."""

    path: str
    line: int
    message: str
    hint: str | None = None


class Finding(NamedTuple):
    """A hit after configuration: the stable unit of ``homeops check`` output."""

    rule: str
    name: str
    severity: Severity
    path: str
    line: int
    message: str
    hint: str | None = None

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.path, self.line, self.rule, self.message)


class Rule(NamedTuple):
    """One entry of the catalog."""

    id: str
    """Stable code, e.g. ``SEC001``; used in configuration and suppressions."""
    name: str
    """Readable slug, e.g. ``plaintext-secret``; also accepted in configuration."""
    family: str
    severity: Severity
    """Default severity; ``.homeops.yaml`` may change it."""
    seed: str
    """The seed rule this enforces, quoted briefly."""
    summary: str
    why: str
    bad: str
    good: str
    fix: str
    check: Callable[[Context], Iterator[Hit]]
    one_per_line: bool = False
    """Report a place once: a field written once may reach several built objects (two clusters, a
    base under several overlays); the first hit at a file and line stands for all."""


RULES: dict[str, Rule] = {}


def at_or_above(findings: Iterable[Finding], threshold: Severity) -> list[Finding]:
    """The findings whose severity is ``threshold`` or worse."""
    return [f for f in findings if f.severity.rank >= threshold.rank]


def rule(
    *,
    id: str,
    name: str,
    family: str,
    severity: Severity,
    seed: str,
    summary: str,
    why: str,
    bad: str,
    good: str,
    fix: str,
    one_per_line: bool = False,
) -> Callable[[Callable[[Context], Iterator[Hit]]], Callable[[Context], Iterator[Hit]]]:
    """Register a check function as a rule of the catalog."""

    def register(check: Callable[[Context], Iterator[Hit]]) -> Callable[[Context], Iterator[Hit]]:
        if id in RULES or any(r.name == name for r in RULES.values()):
            raise ValueError(f"duplicate rule {id} {name}")
        RULES[id] = Rule(id, name, family, severity, seed, summary, why, bad, good, fix, check, one_per_line)
        return check

    return register
