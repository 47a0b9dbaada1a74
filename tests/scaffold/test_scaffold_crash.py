"""A real ``homeops add app`` killed (SIGKILL) half-way through its writes: the next write finishes it."""

from __future__ import annotations

import signal
from pathlib import Path

from scaffold_testlib import files_under, serious

from homeops.journal import state_dir
from homeops.scaffold.create import NewOptions, create_repo
from processes import run, start_paused

PARENT = "kubernetes/apps/default/kustomization.yaml"


def test_add_app_killed_between_renames_is_finished_by_the_next_write(tmp_path: Path) -> None:
    repo = create_repo(tmp_path / "flat", NewOptions("flat")).root
    before = files_under(repo)
    paused = start_paused(["add", "app", "sonarr", repo, "-n", "default", "--no-secret"], "rename:2")
    assert paused.kill() == -signal.SIGKILL
    app = "kubernetes/apps/default/sonarr/"
    half = {p for p in files_under(repo) - before if p.startswith(app)}
    assert "./sonarr/ks.yaml" in (repo / PARENT).read_text()  # the parent names an app half-written
    done = run(["mode", "cert-issuer", "letsencrypt-prod", repo])  # another write command
    assert done.returncode == 0, done.stderr
    assert "finished the interrupted 'homeops add app'" in done.stderr
    complete = {p for p in files_under(repo) - before if p.startswith(app)}
    assert half < complete and f"{app}ks.yaml" in complete
    assert not state_dir(repo).exists()
    assert serious(repo) == []


def _aged(*folders: Path) -> None:
    """As if made a minute ago: a folder younger than 10 s is never taken for abandoned."""
    import os
    import time

    for folder in folders:
        os.utime(folder, (time.time() - 60, time.time() - 60))


def test_new_killed_while_staging_leaves_a_folder_the_next_new_removes(tmp_path: Path) -> None:
    """Into an empty folder, ``new`` writes the repository beside it and renames it into place: a
    SIGKILL before the rename leaves that staging folder (ciphertext at most), never a half
    repository, and the next ``new`` beside it removes it; a staging folder whose writer is alive
    (it holds it) stays."""
    work = tmp_path / "work"
    work.mkdir()
    killed = start_paused(["new", work / "home", "--layout", "flat"], "new.stage")
    assert killed.kill() == -signal.SIGKILL
    (stage,) = work.glob(".home.*.homeops-new")
    assert not (work / "home").exists() and files_under(stage)
    alive = start_paused(["new", work / "lab", "--layout", "flat"], "new.stage")
    try:
        (busy,) = work.glob(".lab.*.homeops-new")
        _aged(stage, busy)
        done = run(["new", work / "home", "--layout", "flat"])
        assert done.returncode == 0, done.stderr
        assert sorted(p.name for p in work.iterdir()) == [busy.name, "home"]
    finally:
        alive.kill()
