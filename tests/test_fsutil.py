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


def test_a_staged_file_never_follows_or_reuses_a_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "entry.json"
    outside = tmp_path / "outside"
    outside.write_text("keep")
    names = iter([b"\x00" * 6, b"\x00" * 6, b"\x01" * 6])  # the first name is taken twice: a new one
    monkeypatch.setattr(os, "urandom", lambda n: next(names))
    taken = tmp_path / ".entry.json.000000000000.homeops-tmp"
    taken.symlink_to(outside)  # a planted link where the staged file would go is not written through
    atomic_write(target, "new")
    assert target.read_text() == "new" and outside.read_text() == "keep"
    assert (target.stat().st_mode & 0o777) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == [taken.name, "entry.json", "outside"]
