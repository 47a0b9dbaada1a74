"""Fixtures for the simulation tests: committing a repository to a fresh, isolated Git repository."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "PATH": "/usr/bin:/bin",
}

Commit = Callable[[Path, str], None]


@pytest.fixture
def commit() -> Commit:
    """``commit(folder, message)``: commit everything in the folder (made a Git repository first)."""

    def run(root: Path, message: str) -> None:
        if not (root / ".git").exists():
            subprocess.run(["git", "init", "-q"], cwd=root, env=GIT_ENV, check=True)
        for argv in (["git", "add", "-A"], ["git", "commit", "-qm", message]):
            subprocess.run(argv, cwd=root, env=GIT_ENV, check=True)

    return run
