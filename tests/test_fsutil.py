"""homeops.fsutil.atomic_write: whole files only; caches skip the wait for the disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homeops.fsutil import atomic_write


@pytest.mark.parametrize("durable", [True, False])
def test_atomic_write_replaces_the_file_and_syncs_only_when_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, durable: bool
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    target = tmp_path / "cache" / "entry.json"
    atomic_write(target, "old", mode=0o600)
    atomic_write(target, "new", mode=0o600, durable=durable)
    assert target.read_text() == "new"
    assert (target.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["entry.json"]  # no staged file left
    assert len(synced) == (2 if durable else 1)
