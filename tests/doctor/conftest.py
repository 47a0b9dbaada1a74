"""Fixtures for the live-cluster tests: the test repository under Git, and scenario snapshots of it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

import cluster_states

REPO = Path(__file__).resolve().parent.parent / "testdata" / "live" / "repo"


@pytest.fixture(scope="session")
def live_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The test repository committed to a fresh Git repository: (folder, HEAD)."""
    root = tmp_path_factory.mktemp("live") / "repo"
    shutil.copytree(REPO, root)
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "PATH": "/usr/bin:/bin",
    }
    for argv in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "repo"]):
        subprocess.run(argv, cwd=root, env=env, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, env=env, check=True, capture_output=True, text=True
    )
    return root, head.stdout.strip()


@pytest.fixture
def snapshot_of(tmp_path: Path, live_repo: tuple[Path, str]) -> Callable[[str | None], Path]:
    """Write the snapshot of one scenario (None: healthy) as the cluster would show the test repository."""

    def make(scenario: str | None) -> Path:
        return cluster_states.write(tmp_path / f"{scenario or 'healthy'}.json", scenario, head=live_repo[1])

    return make
