"""Files homeops cannot read (permission denied) are named, with why; never "a bug in homeops".

The commands run in a real process without root's power to read any file (see ``processes.py``), so a
file with mode 000 is unreadable even when the tests run as root.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from secrets_testlib import Key

from homeops.secrets import ops
from processes import run_unprivileged

SECRET_YAML = "kubernetes/apps/default/app/secret.sops.yaml"
TALOS = "talos/talsecret.sops.yaml"


def _no_internal_error(stderr: str) -> None:
    assert "internal error" not in stderr and "bug in homeops" not in stderr and "Traceback" not in stderr


@pytest.fixture
def locked_away() -> list[Path]:
    """Paths the test made unreadable; given their permissions back afterwards (for cleanup)."""
    paths: list[Path] = []
    yield paths
    for path in paths:
        os.chmod(path, 0o700)


def _lock_away(path: Path, paths: list[Path]) -> None:
    os.chmod(path, 0)
    paths.append(path)


@pytest.mark.parametrize("how", ["--age-key", "SOPS_AGE_KEY_FILE", "folder"])
def test_an_unreadable_age_key_is_named(
    repo: Path, age_key: Key, locked_away: list[Path], how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ops.encrypt(repo)
    argv = ["secrets", "show", repo / TALOS]
    if how == "--age-key":
        argv[2:2] = ["--age-key", str(age_key.file)]
        _lock_away(age_key.file, locked_away)
    elif how == "SOPS_AGE_KEY_FILE":
        _lock_away(age_key.file, locked_away)
    else:  # sops' default place, in a folder the user cannot search
        default = Path(os.environ["XDG_CONFIG_HOME"]) / "sops" / "age" / "keys.txt"
        default.parent.mkdir(parents=True)
        age_key.file.rename(default)
        monkeypatch.delenv("SOPS_AGE_KEY_FILE")
        _lock_away(default.parent, locked_away)
        age_key = Key(age_key.public, age_key.private, default)
    done = run_unprivileged(argv)
    assert done.returncode == 2, done.stderr
    assert f"cannot read the age key file {age_key.file}: Permission denied" in done.stderr
    _no_internal_error(done.stderr)
    assert "fixture-cluster" not in done.stdout


def test_status_lists_an_unreadable_secret_file(repo: Path, locked_away: list[Path]) -> None:
    ops.encrypt(repo)
    _lock_away(repo / TALOS, locked_away)
    done = run_unprivileged(["secrets", "status", repo])
    assert done.returncode == 1
    assert f"{TALOS}" in done.stdout and "unreadable" in done.stdout
    _no_internal_error(done.stderr)


def test_rotate_refuses_to_leave_an_unreadable_file_on_the_old_key(
    repo: Path, locked_away: list[Path], snapshot
) -> None:
    ops.encrypt(repo)
    _lock_away(repo / TALOS, locked_away)
    before = {rel: data for rel, data in snapshot(repo).items() if rel != TALOS}
    done = run_unprivileged(["secrets", "rotate", repo])
    assert done.returncode == 3, done.stderr
    assert f"{TALOS}: cannot read it: Permission denied" in done.stderr
    assert "no file was changed" in done.stderr
    _no_internal_error(done.stderr)
    os.chmod(repo / TALOS, 0o600)
    assert {rel: data for rel, data in snapshot(repo).items() if rel != TALOS} == before


def test_encrypt_names_an_unreadable_secret_file(repo: Path, locked_away: list[Path], snapshot) -> None:
    _lock_away(repo / TALOS, locked_away)
    done = run_unprivileged(["secrets", "encrypt", repo])
    assert done.returncode == 3, done.stderr
    assert f"{TALOS}: cannot read it: Permission denied" in done.stderr
    _no_internal_error(done.stderr)


def test_an_unreadable_sops_yaml_is_named(repo: Path, locked_away: list[Path]) -> None:
    _lock_away(repo / ".sops.yaml", locked_away)
    done = run_unprivileged(["secrets", "encrypt", repo])
    assert done.returncode == 2, done.stderr
    assert "cannot read .sops.yaml: Permission denied" in done.stderr
    _no_internal_error(done.stderr)


def test_any_command_names_an_unreadable_file(repo: Path, locked_away: list[Path]) -> None:
    """The general mapping in the CLI: an unreadable manifest stops ``check`` with its name."""
    manifest = repo / "kubernetes/apps/default/app/helmrelease.yaml"
    _lock_away(manifest, locked_away)
    done = run_unprivileged(["check", repo])
    assert done.returncode == 3, done.stderr
    assert f"cannot open {manifest}: Permission denied" in done.stderr
    _no_internal_error(done.stderr)
