"""Fixtures for the configure tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_ambient_sops_key(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Decryption must only ever use the key a test provides (not the user's ~/.config/sops)."""
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
