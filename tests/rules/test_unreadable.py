"""A folder homeops may not read is named with why (LOAD008), as Git warns about it, instead of its
files silently missing from the check; an unreadable repository root is an error naming it.

The checks run in a real process without root's power to read any folder (``processes.py``)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from rules_testlib import RULES, copy_repo

from processes import run_unprivileged

LOCKED = "kubernetes/apps/default/locked"


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    root = copy_repo(RULES / "LOAD008" / "fail", tmp_path / "repo")
    yield root
    for folder in (root, root / LOCKED):
        os.chmod(folder, 0o755)  # back, for the cleanup


def test_an_unreadable_folder_is_named_with_why(repo: Path) -> None:
    os.chmod(repo / LOCKED, 0)
    done = run_unprivileged(["check", repo, "-o", "json", "--no-cache"])
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    found = json.loads(done.stdout)["findings"]
    assert [(f["rule"], f["severity"], f["path"], f["line"]) for f in found] == [
        ("LOAD008", "warning", LOCKED, 1)  # no line: 1 in JSON, as for every file-level finding
    ]
    assert "Permission denied" in found[0]["message"]
    assert done.returncode == 0  # a warning: the default fail-on is error


def test_readable_again_it_is_checked_again(repo: Path, tmp_path: Path) -> None:
    env = {"HOMEOPS_CACHE_DIR": str(tmp_path / "cache")}
    os.chmod(repo / LOCKED, 0)
    assert "LOAD008" in run_unprivileged(["check", repo, "-o", "json"], env=env).stdout
    os.chmod(repo / LOCKED, 0o755)  # the stored result must not be replayed
    found = json.loads(run_unprivileged(["check", repo, "-o", "json"], env=env).stdout)["findings"]
    assert [(f["rule"], f["path"]) for f in found] == [("REF003", f"{LOCKED}/configmap.yaml")]


def test_an_unreadable_repository_is_an_error(repo: Path) -> None:
    os.chmod(repo, 0)
    done = run_unprivileged(["check", repo, "--no-cache"])
    assert done.returncode == 3, done.stderr
    assert f"cannot open {repo}: Permission denied" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
