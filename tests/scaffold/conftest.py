"""Fixtures for the scaffold tests: no age key of the person running them, a key made here, git."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homeops.secrets import keys


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No age key, sops configuration or git identity of the person running the tests leaks in."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for name in (
        "SOPS_AGE_KEY",
        "SOPS_AGE_KEY_FILE",
        "SOPS_AGE_KEY_CMD",
        "SOPS_AGE_RECIPIENTS",
        "SOPS_CONFIG",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name, value in (
        ("GIT_AUTHOR_NAME", "t"),
        ("GIT_AUTHOR_EMAIL", "t@example.com"),
        ("GIT_COMMITTER_NAME", "t"),
        ("GIT_COMMITTER_EMAIL", "t@example.com"),
    ):
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def keypair() -> tuple[str, str]:
    """(public, private) age key made for this test session."""
    return keys.generate_age_key()


@pytest.fixture
def key_file(keypair: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The session key in a key file that sops (and homeops) find through SOPS_AGE_KEY_FILE."""
    public, private = keypair
    path = tmp_path / "keys" / "keys.txt"
    keys.write_key(path, public, private)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(path))
    return path
