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
