"""Caches on disk never keep a SOPS file's plaintext: one that is not encrypted yet (or was decrypted
on request) is parsed for every run, and an artifact holding one is built in RAM for the run only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FLUX = Path(__file__).resolve().parent.parent / "testdata" / "flux"
CANARY = "CANARY-e4c8-plaintext-secret"
SECRET = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: {CANARY}\n"


def _in_cache(cache: Path) -> list[str]:
    return [str(p) for p in cache.rglob("*") if p.is_file() and CANARY.encode() in p.read_bytes()]


@pytest.mark.parametrize(
    ("fixture", "folder"), [("gotk-sync", "apps/echo"), ("artifact-generator", "platform/settings")]
)
def test_a_plaintext_sops_file_reaches_no_cache(tmp_path: Path, fixture: str, folder: str) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FLUX / fixture, repo)
    (repo / folder / "secret.sops.yaml").write_text(SECRET)
    kustomization = repo / folder / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "  - secret.sops.yaml\n")
    cache = tmp_path / "cache"
    shm = set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()
    for _ in range(2):  # the second run would read what the first one kept
        done = subprocess.run(
            [sys.executable, "-m", "homeops", "check", str(repo)],
            env={**os.environ, "HOMEOPS_CACHE_DIR": str(cache)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert "internal error" not in done.stderr, done.stderr
        assert "SEC" in done.stdout  # the plaintext Secret was read, and reported
    assert _in_cache(cache) == []
    if os.path.isdir("/dev/shm"):
        assert {n for n in set(os.listdir("/dev/shm")) - shm if n.startswith("homeops-artifact-")} == set()
