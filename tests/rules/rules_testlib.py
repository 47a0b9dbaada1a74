"""Fixture repositories for the rule tests: hand-written ``# expect: RULE`` markers and the findings.

A marker is a YAML comment on the exact line a finding must point at (``# expect: IMG001``; several
rules: ``# expect: IMG001, SEC004``). File-level findings point at line 1, so their marker is there.
Findings without a file line (a symlink, line 0) cannot carry a marker: the test that creates them
states them itself.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

from homeops.rules.base import Finding
from homeops.rules.engine import run_checks
from homeops.workspace import open_workspace

TESTDATA = Path(__file__).resolve().parent.parent / "testdata"
RULES = TESTDATA / "rules"
REPOS = TESTDATA / "repos"

_MARKER = re.compile(r"#\s*expect:\s*([A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)")

Place = tuple[str, str, int]
"""(rule, repo-relative path, 1-based line)."""


def markers(root: Path) -> Counter[Place]:
    """Every ``# expect:`` marker under ``root``, as (rule, path, line) with multiplicity."""
    found: Counter[Place] = Counter()
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink() or path.suffix == ".md":
            continue  # the README of a fixture may quote a marker without meaning one
        text = path.read_bytes().decode("utf-8", "replace")
        rel = path.relative_to(root).as_posix()
        for number, line in enumerate(text.splitlines(), 1):
            match = _MARKER.search(line)
            if match:
                for rule in match.group(1).split(","):
                    found[(rule.strip(), rel, number)] += 1
    return found


def findings(root: Path, *, select: list[str] | None = None) -> list[Finding]:
    """Every finding of the whole catalog on ``root``; a rule that crashes fails the test."""
    workspace = open_workspace(root, use_cache=False)
    return run_checks(workspace.flux, workspace.config, select=select, raise_errors=True)


def places(found: list[Finding], rule: str | None = None) -> Counter[Place]:
    return Counter((f.rule, f.path, f.line) for f in found if rule is None or f.rule == rule)


def describe(found: list[Finding]) -> str:
    """Findings one per line, for assertion messages."""
    return "\n".join(f"  {f.path}:{f.line} {f.rule} {f.message}" for f in found) or "  (none)"


def reused_repos(rule_dir: Path) -> list[str]:
    """Layout repositories a rule folder's README reuses as passing cases (``pass: flat, layered``)."""
    readme = rule_dir / "README.md"
    if not readme.is_file():
        return []
    lines = [line for line in readme.read_text().splitlines() if line.startswith("pass:")]
    return [name.strip() for line in lines for name in line.split(":", 1)[1].split(",")]


def copy_repo(source: Path, target: Path) -> Path:
    """A private copy of a fixture repository (for tests that add links or odd bytes)."""
    shutil.copytree(source, target, symlinks=True)
    return target
