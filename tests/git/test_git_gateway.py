"""homeops.git, the one gateway to Git: the work tree's top, HEAD, tracked paths, the environment."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from homeops import git

pytestmark = pytest.mark.usefixtures("isolated_env")


def test_questions_about_a_work_tree(tmp_path: Path) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    assert git.toplevel(outside) is None and git.head(outside) is None
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert git.toplevel(repo / "sub") == repo.resolve()
    assert git.head(repo) is None  # no commit yet
    (repo / "sub" / "a.yaml").write_text("a: 1\n")
    assert not git.is_tracked(repo, "sub/a.yaml")
    git.run(repo, "add", "sub/a.yaml")
    assert git.is_tracked(repo, "sub/a.yaml")
    git.run(repo, "commit", "-qm", "first")
    head = git.head(repo)
    assert head is not None and head == git.run(repo, "rev-parse", "HEAD").text.strip()


def test_every_call_gets_the_environment(tmp_path: Path) -> None:
    # a password prompt would hang a hook or a diff; LFS would download on a checkout of another revision
    shown = git.run(tmp_path, "-c", "alias.showenv=!env", "showenv", env={"EXTRA": "1"}).text.splitlines()
    for name, value in {**git.ENV, "EXTRA": "1"}.items():
        assert f"{name}={value}" in shown
