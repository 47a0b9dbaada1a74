"""Fixtures for the secrets tests: an isolated sops environment, an age key made here, a repo copy."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from secrets_testlib import Key, copy_layout

from homeops.secrets import keys
from leftovers import private_dirs


@pytest.fixture(autouse=True)
def _sops_environment(isolated_env: None) -> None:
    """No key, config or editor of the person running the tests may leak in."""


@pytest.fixture(scope="session")
def _keypair() -> tuple[str, str]:
    return keys.generate_age_key()


@pytest.fixture
def age_key(_keypair: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Key:
    """A key generated for this test session, in a key file sops finds through SOPS_AGE_KEY_FILE."""
    public, private = _keypair
    path = tmp_path / "keys" / "keys.txt"
    keys.write_key(path, public, private)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(path))
    return Key(public, private, path)


def sops_config(public: str) -> str:
    return f"""\
creation_rules:
  - path_regex: talos/.*\\.sops\\.ya?ml
    age: {public}
  - path_regex: kubernetes/.*\\.sops\\.ya?ml
    encrypted_regex: ^(data|stringData)$
    mac_only_encrypted: true
    age: {public}
  - path_regex: \\.sops\\.(env|json|ini)$
    age: {public}
stores:
  yaml:
    indent: 2
"""


@pytest.fixture
def repo(tmp_path: Path, age_key: Key) -> Path:
    """A copy of the layout fixture (``.plain`` suffixes dropped) with a ``.sops.yaml`` for ``age_key``."""
    root = copy_layout(tmp_path / "repo")
    (root / ".sops.yaml").write_text(sops_config(age_key.public))
    return root


@pytest.fixture
def snapshot() -> Callable[[Path], dict[str, bytes]]:
    """Every file under a folder with its bytes (to prove a failed operation changed nothing)."""

    def take(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
        }

    return take


@pytest.fixture
def shm_leftovers() -> Callable[[], set[str]]:
    """The private temporary folders this test process made that still exist (a library call that
    returned must have removed its own; other processes' folders do not count)."""

    def names() -> set[str]:
        return {Path(p).name for p in private_dirs()}

    return names


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def git() -> Callable[..., str]:
    """Run the system git in a folder: ``git(cwd, "add", "-A")``."""
    return _git


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    root = tmp_path / "gitrepo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "test@example.invalid")
    _git(root, "config", "user.name", "test")
    return root
