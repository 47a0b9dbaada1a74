"""Helpers for the scaffold tests: run the CLI and the checker in-process, read generated files."""

from __future__ import annotations

import contextlib
import io
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homeops.cli.main import main
from homeops.load import yamlio
from homeops.rules.base import Finding, Severity
from homeops.rules.engine import run_checks
from homeops.workspace import open_workspace


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def cli(*argv: str | Path) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return Run(code, out.getvalue(), err.getvalue())


def findings(repo: Path) -> list[Finding]:
    """Every finding of the whole catalog, as 'homeops check' computes them."""
    workspace = open_workspace(repo, use_cache=False)
    return run_checks(workspace.flux, workspace.config, raise_errors=True)


def serious(repo: Path) -> list[str]:
    """Findings of severity warning or error, formatted for an assertion message."""
    return [
        f"{f.path}:{f.line} {f.rule} {f.message}"
        for f in findings(repo)
        if f.severity in (Severity.ERROR, Severity.WARNING)
    ]


def keys_of(found: list[Finding]) -> set[tuple[str, str, int]]:
    return {(f.rule, f.path, f.line) for f in found}


def docs(path: Path) -> list[Any]:
    """The documents of a file, read as Flux reads them (real repositories hold odd YAML)."""
    return [d for d in yamlio.parse(path.read_bytes()).documents if d is not None]


def doc(path: Path) -> Any:
    found = docs(path)
    assert len(found) == 1, path
    return found[0]


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "HOME": str(repo),
    }
    done = subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True)
    return done.stdout


def git_init(repo: Path) -> None:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
