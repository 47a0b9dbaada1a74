"""Real ``homeops secrets`` processes killed, signalled, or racing each other.

The processes are real (``python -m homeops``), the signals are real (SIGKILL included), the editor is
a real program. What is checked is what a user would check afterwards: ``git status``, the system
temporary folder, the private RAM-backed folders, and what the next homeops write does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from secrets_testlib import LAYOUT_SECRETS, Key

from homeops.journal import state_dir
from homeops.secrets import keys, ops, sops
from leftovers import private_files_holding
from processes import HOMEOPS, run, start_paused

Git = Callable[..., str]
SECRET_YAML = "kubernetes/apps/default/app/secret.sops.yaml"
SECRET_FILES = ("kubernetes/apps/default/app/echo.sops.env", SECRET_YAML, "talos/talsecret.sops.yaml")
EDITED = "edited-token-d00d"


@pytest.fixture
def git_layout(repo: Path, git: Git) -> Path:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "plaintext")
    return repo


@pytest.fixture
def systmp(tmp_path: Path) -> Path:
    """The system temporary folder the homeops processes see ($TMPDIR)."""
    folder = tmp_path / "systmp"
    folder.mkdir()
    return folder


def holding(pid: int, values: tuple[str, ...]) -> list[str]:
    """Files of the private folders process ``pid`` made that hold one of ``values``."""
    return [path for value in values for path in private_files_holding(value, pid)]


def decrypts_with(repo: Path, rel: str, identity: str) -> bytes:
    return sops.decrypt((repo / rel).read_bytes(), filename=rel, repo_root=repo, age_key=identity)


# -- kill -9 in the commit phase ----------------------------------------------------------------


def test_encrypt_killed_between_renames(git_layout: Path, git: Git, systmp: Path) -> None:
    repo = git_layout
    paused = start_paused(["secrets", "encrypt", repo], "rename:1", env={"TMPDIR": str(systmp)})
    assert paused.kill() == -signal.SIGKILL
    # Nothing to commit by accident: only the one file encrypted so far shows up in git status.
    status = git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert [line[:2] for line in status] == [" M"], status
    # No plaintext copy of a secret anywhere outside the repository.
    assert list(systmp.iterdir()) == []
    assert holding(paused.pid, LAYOUT_SECRETS) == []
    # The next write (any homeops write) finishes the change first.
    done = run(["secrets", "encrypt", repo])
    assert done.returncode == 0, done.stderr
    assert "finished the interrupted 'homeops secrets encrypt'" in done.stderr
    assert all(sops.is_encrypted((repo / rel).read_bytes(), rel) for rel in SECRET_FILES)
    assert not state_dir(repo).exists()
    assert sorted(line[3:] for line in git(repo, "status", "--porcelain").splitlines()) == sorted(
        SECRET_FILES
    )


def test_encrypt_killed_while_staging_changes_nothing(git_layout: Path, git: Git) -> None:
    paused = start_paused(["secrets", "encrypt", git_layout], "stage:2")
    paused.kill()
    assert git(git_layout, "status", "--porcelain", "--untracked-files=all") == ""
    assert any(state_dir(git_layout).glob("txn-*"))
    assert run(["secrets", "status", git_layout]).returncode == 1  # reading does not touch it
    done = run(["secrets", "decrypt", git_layout / SECRET_YAML])  # a write: cleans up first
    assert done.returncode == 0, done.stderr
    assert not state_dir(git_layout).exists()
    assert git(git_layout, "status", "--porcelain", "--untracked-files=all") == ""


def test_rotate_killed_between_renames_is_finished(repo: Path, age_key: Key) -> None:
    ops.encrypt(repo)
    old_config = (repo / ".sops.yaml").read_text()
    paused = start_paused(["secrets", "rotate", repo], "rename:2")
    paused.kill()
    assert (repo / ".sops.yaml").read_text() == old_config  # half-done: the config is renamed last
    done = run(["secrets", "encrypt", repo])
    assert done.returncode == 0 and "finished the interrupted 'homeops secrets rotate'" in done.stderr
    identities = keys.parse_identities(age_key.file.read_text())
    assert len(identities) == 2
    new_public = keys.public_key_of(identities[1])
    assert new_public in (repo / ".sops.yaml").read_text() and age_key.public not in old_config.replace(
        age_key.public, ""
    )
    for rel in SECRET_FILES:
        assert sops.recipients_of((repo / rel).read_bytes(), rel) == [new_public]
        assert decrypts_with(repo, rel, identities[1])


# -- an editor session, and what can happen to it -------------------------------------------------


class Editing:
    """``homeops secrets edit`` running with a real editor program that waits to be released."""

    def __init__(self, repo: Path, tmp_path: Path, *, env: dict[str, str] | None = None) -> None:
        self.marker = tmp_path / "editing"
        self.release = tmp_path / "release"
        script = tmp_path / "editor"
        script.write_text(
            "#!/bin/sh\n"
            f'echo "$1 $$" > {self.marker}.tmp && mv {self.marker}.tmp {self.marker}\n'
            f"while [ ! -e {self.release} ]; do sleep 0.05; done\n"
            f'sed -i "s/fixture-token-4f1b2c/{EDITED}/" "$1"\n'
        )
        script.chmod(0o755)
        full_env = {**os.environ, "EDITOR": str(script), **(env or {})}
        self.process = subprocess.Popen(
            [*HOMEOPS, "secrets", "edit", str(repo / SECRET_YAML)],
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while not self.marker.exists():
            assert self.process.poll() is None, self.process.communicate()[1]
            assert time.monotonic() < deadline, "the editor never started"
            time.sleep(0.02)
        path, pid = self.marker.read_text().split()
        self.plaintext = Path(path)
        """The decrypted copy the editor works on."""
        self.editor_pid = int(pid)

    def finish(self) -> tuple[int, str]:
        self.release.touch()
        _, err = self.process.communicate(timeout=60)
        return self.process.returncode, err.decode()


def _editor_alive(pid: int) -> bool:
    """Whether the editor script still runs as ``pid`` (pids are reused quickly on a busy machine)."""
    try:
        return b"editor" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGALRM])
def test_edit_removes_the_plaintext_on_every_signal(repo: Path, tmp_path: Path, signum: int) -> None:
    ops.encrypt(repo)
    before = (repo / SECRET_YAML).read_bytes()
    editing = Editing(repo, tmp_path)
    assert b"fixture-token-4f1b2c" in editing.plaintext.read_bytes()
    os.kill(editing.process.pid, signum)
    _, err = editing.process.communicate(timeout=60)
    assert editing.process.returncode == 128 + signum, err
    assert b"Traceback" not in err
    assert not editing.plaintext.exists() and not editing.plaintext.parent.exists()
    deadline = time.monotonic() + 10
    while _editor_alive(editing.editor_pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # the editor is stopped with the edit
    assert not _editor_alive(editing.editor_pid)
    assert (repo / SECRET_YAML).read_bytes() == before


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGQUIT])
def test_keyboard_signals_belong_to_the_editor_while_it_runs(repo: Path, tmp_path: Path, signum: int) -> None:
    """Ctrl-C in vi must not throw the edit away (as with git commit); the copy goes when it ends."""
    ops.encrypt(repo)
    editing = Editing(repo, tmp_path)
    os.kill(editing.process.pid, signum)
    time.sleep(0.5)
    assert editing.process.poll() is None and editing.plaintext.exists()
    code, err = editing.finish()
    assert code == 0, err
    assert not editing.plaintext.exists() and not editing.plaintext.parent.exists()
    assert EDITED.encode() in ops.show(repo / SECRET_YAML)


def test_a_rotate_during_an_edit_waits_then_names_the_editor(
    repo: Path, tmp_path: Path, age_key: Key
) -> None:
    ops.encrypt(repo)
    editing = Editing(repo, tmp_path)
    refused = run(["secrets", "rotate", repo], env={"HOMEOPS_LOCK_WAIT": "0.5"})
    assert refused.returncode == 3
    assert f"'homeops secrets edit' (pid {editing.process.pid}, since" in refused.stderr
    assert "is writing to this repository" in refused.stderr
    code, err = editing.finish()
    assert code == 0, err
    rotated = run(["secrets", "rotate", repo])
    assert rotated.returncode == 0, rotated.stderr
    new_identity = keys.parse_identities(age_key.file.read_text())[1]
    assert EDITED.encode() in decrypts_with(repo, SECRET_YAML, new_identity)
    assert sops.recipients_of((repo / SECRET_YAML).read_bytes(), SECRET_YAML) == [
        keys.public_key_of(new_identity)
    ]


def test_a_second_writer_waits_for_the_first(repo: Path, tmp_path: Path, age_key: Key) -> None:
    ops.encrypt(repo)
    editing = Editing(repo, tmp_path)
    rotate = subprocess.Popen(
        [*HOMEOPS, "secrets", "rotate", str(repo)],
        env={**os.environ, "HOMEOPS_LOCK_WAIT": "60"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)
    assert rotate.poll() is None  # waiting for the edit
    code, err = editing.finish()
    assert code == 0, err
    _, rotate_err = rotate.communicate(timeout=120)
    assert rotate.returncode == 0, rotate_err
    new_identity = keys.parse_identities(age_key.file.read_text())[1]
    assert EDITED.encode() in decrypts_with(repo, SECRET_YAML, new_identity)
