"""A full disk, for real: a small tmpfs is mounted and filled (the tests need the right to mount,
as root in the CI container has; they skip and say so otherwise).

A write command on a full repository disk refuses with the file named and leaves the repository as it
was (no lock, no staged file, no journal); a reading command whose cache disk is full still works.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

FLUX = Path(__file__).resolve().parent.parent / "testdata" / "flux"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs at ``tmp_path/disk``."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> None:
    """Fill ``disk`` to the last byte."""
    for name, size in (("filler", 4096), ("filler-2", 1)):  # then a last partial block, if any
        fd = os.open(disk / name, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
        finally:
            os.close(fd)


def tree(root: Path) -> dict[str, bytes | None]:
    found: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        found[rel] = path.read_bytes() if path.is_file() and not path.is_symlink() else None
    return found


def homeops(
    *args: str | Path, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "homeops", *(str(a) for a in args)],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_add_app_on_a_full_disk_refuses_and_changes_nothing(small_disk: Path, tmp_path: Path) -> None:
    repo = small_disk / "repo"
    env = {"HOMEOPS_CACHE_DIR": str(tmp_path / "cache")}
    assert homeops("new", repo, "--layout", "flat", env=env).returncode == 0
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    before = tree(repo)
    fill(small_disk)
    done = homeops("add", "app", "web", "--namespace", "demo", repo, env=env)
    assert "internal error" not in done.stderr, done.stderr
    assert done.returncode == 3
    assert "No space left on device" in done.stderr and "nothing was changed" in done.stderr
    assert tree(repo) == before  # no lock, no journal, no staged file, no half-written app


def test_a_reading_command_works_when_its_cache_disk_is_full(small_disk: Path, tmp_path: Path) -> None:
    """ArtifactGenerator trees normally go to the cache: without room they are kept in RAM for the run."""
    cache = small_disk / "cache"
    cache.mkdir()
    fill(small_disk)
    shm_before = set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()
    done = homeops("check", FLUX / "artifact-generator", env={"HOMEOPS_CACHE_DIR": str(cache)})
    assert "internal error" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 Kustomizations, 4 HelmReleases" in done.stderr
    if shm_before or os.path.isdir("/dev/shm"):
        left = {n for n in set(os.listdir("/dev/shm")) - shm_before if n.startswith("homeops-artifact-")}
        assert left == set()  # the run's own copy is gone with it


def test_configure_on_a_full_disk_refuses_and_changes_nothing(small_disk: Path, tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "configure"))
    from configure_testlib import make_mini_repo, write_values

    repo = make_mini_repo(small_disk / "repo", secret_value="first-9d1c")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = {"HOMEOPS_CACHE_DIR": str(tmp_path / "cache"), "SOPS_AGE_KEY_FILE": str(repo / "age.key")}
    assert homeops("configure", repo, env=env).returncode == 0
    write_values(repo, replicas=9, secret_value="second-4be0")
    before = tree(repo)
    fill(small_disk)
    done = homeops("configure", repo, env=env)
    assert "internal error" not in done.stderr, done.stderr
    assert done.returncode == 3
    assert "No space left on device" in done.stderr and "nothing was changed" in done.stderr
    assert tree(repo) == before
    shutil.rmtree(small_disk / "repo", ignore_errors=True)
