"""Fixtures for the diff tests: a folder of test data committed to a real Git repository."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from services import GitRemote, git_remote


@pytest.fixture
def committed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], GitRemote]]:
    """``committed(folder)``: a work tree holding a copy of ``folder`` as its one commit on ``main``,
    pushed to a bare ``origin`` (so the diff's default base, the merge-base with origin/main, exists)."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    with contextlib.ExitStack() as stack:

        def make(source: Path) -> GitRemote:
            git = stack.enter_context(git_remote(tmp_path / "git"))
            shutil.copytree(source, git.work, dirs_exist_ok=True)
            git.commit({}, "base")
            return git

        yield make
