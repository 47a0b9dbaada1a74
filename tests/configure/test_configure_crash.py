"""A real ``homeops configure`` killed or signalled half-way: nothing half-done survives the next run.

Each test starts a real homeops process that stops at a named point (``HOMEOPS_PAUSE_AT``), sends it a
real signal, then looks at the repository, at the private temporary folders, and at what the next
homeops write command does.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import pytest
from configure_testlib import files_containing, fingerprint, make_mini_repo, write_values

from homeops.configure import Status, configure, load_ledger
from homeops.fsutil import PRIVATE_SUFFIX
from homeops.journal import state_dir
from homeops.secrets import sops
from leftovers import private_files_holding
from processes import run, start_paused

# Unique per run: leftovers of another run (or of an older homeops) must not be mistaken for ours.
OLD_SECRET = f"old-crash-plaintext-{uuid.uuid4().hex[:12]}"
NEW_SECRET = f"new-crash-plaintext-{uuid.uuid4().hex[:12]}"
OUTPUTS = ("kubernetes/apps/demo/app.yaml", "kubernetes/apps/demo/secret.sops.yaml")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_mini_repo(tmp_path / "repo", secret_value=OLD_SECRET)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(root / "age.key"))
    assert {f.status for f in configure(root).files} == {Status.CREATED}
    write_values(root, replicas=5, secret_value=NEW_SECRET)
    return root


def test_kill_9_between_renames_is_finished_by_the_next_write(repo: Path) -> None:
    paused = start_paused(["configure", "--no-check", repo], "rename:1")
    assert paused.kill() == -signal.SIGKILL
    # Half-done on disk: one output replaced, the journal waiting; no temporary file in the work tree.
    assert "replicas: 5" in (repo / OUTPUTS[0]).read_text()
    assert not [p for p in repo.rglob("*") if ".homeops-lock" not in p.parts and "homeops-tmp" in p.name]
    assert list(state_dir(repo).glob("txn-*/journal.json"))
    # Any homeops write finishes it first: here a secrets command, not configure.
    done = run(["secrets", "encrypt", repo])
    assert done.returncode == 0, done.stderr
    assert "finished the interrupted 'homeops configure'" in done.stderr
    assert not state_dir(repo).exists()
    ledger = load_ledger(repo)
    assert ledger is not None and ledger.edited_by_hand(repo) == []
    secret = (repo / OUTPUTS[1]).read_bytes()
    plain = sops.decrypt(secret, filename=OUTPUTS[1], repo_root=repo, age_key=(repo / "age.key").read_text())
    assert NEW_SECRET in plain.decode()
    assert files_containing(repo, NEW_SECRET.encode()) == ["values.yaml"]


def test_kill_9_while_staging_leaves_the_repository_unchanged(repo: Path) -> None:
    before = fingerprint(repo)
    paused = start_paused(["configure", "--no-check", repo], "stage:2")
    paused.kill()
    assert not [p for p in repo.rglob("*") if ".homeops-lock" not in p.parts and p.is_file()
                and p.relative_to(repo).as_posix() not in before]  # fmt: skip
    done = run(["configure", "--dry-run", repo])  # a dry run neither finishes nor discards anything
    assert done.returncode == 0 and "interrupted homeops write is pending" in done.stderr
    assert run(["secrets", "encrypt", repo]).returncode == 0
    assert fingerprint(repo) == before


def test_kill_9_after_rendering_leaves_plaintext_only_until_the_next_run(repo: Path) -> None:
    paused = start_paused(["configure", "--no-check", repo], "configure.step:1")
    paused.kill()
    left = private_files_holding(NEW_SECRET, paused.pid)
    assert left, "the rendered plaintext was in a private RAM-backed folder when the process died"
    folders = {Path(*Path(p).parts[:4]) for p in left}
    assert all(f.name.endswith(PRIVATE_SUFFIX) for f in folders)
    for folder in folders:  # abandoned for a while (a folder younger than 10 s is never taken)
        os.utime(folder, (time.time() - 60, time.time() - 60))
    assert run(["secrets", "encrypt", repo]).returncode == 0  # any homeops write sweeps them
    assert private_files_holding(NEW_SECRET, paused.pid) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGINT])
def test_a_signal_before_the_commit_removes_the_plaintext(repo: Path, signum: int) -> None:
    before = fingerprint(repo)
    paused = start_paused(["configure", "--no-check", repo], "configure.step:1")
    assert private_files_holding(NEW_SECRET, paused.pid)
    code = paused.signal(signum)
    assert code == 128 + signum, paused.stderr
    assert b"Traceback" not in paused.stderr
    assert private_files_holding(NEW_SECRET, paused.pid) == []
    assert fingerprint(repo) == before and not state_dir(repo).exists()
