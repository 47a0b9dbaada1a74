"""Fixtures for the scaffold tests: no age key of the person running them, a key made here, git."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeops.secrets import keys


@pytest.fixture(autouse=True)
def _isolated(isolated_env: None) -> None:
    """No age key, sops configuration or git identity of the person running the tests leaks in."""


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
