"""``add app``, ``new --force`` and ``mode`` never write through a symlink leading out of the repository."""

from __future__ import annotations

from pathlib import Path

import pytest
from scaffold_testlib import cli, files_under

from homeops.scaffold.create import NewOptions, create_repo

SETTINGS = "kubernetes/components/common/cluster-settings.yaml"


def _outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "keep.txt").write_text("precious\n")
    return folder


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_add_app_through_a_symlinked_namespace_folder_is_refused(tmp_path: Path) -> None:
    repo = create_repo(tmp_path / "flat", NewOptions("flat")).root
    outside = _outside(tmp_path)
    (repo / "kubernetes/apps/media").symlink_to(outside)
    before = files_under(repo)
    run = cli("add", "app", "sonarr", repo, "-n", "media", "--no-secret")
    assert run.code == 3, run.err
    assert "resolves outside the repository" in run.err and "kubernetes/apps/media/" in run.err
    assert _contents(outside) == {"keep.txt": b"precious\n"}
    assert files_under(repo) == before


def test_new_force_through_a_symlinked_kubernetes_folder_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    outside = _outside(tmp_path)
    (repo / "kubernetes").symlink_to(outside)
    run = cli("new", repo, "--layout", "flat", "--force", "--no-encrypt")
    assert run.code == 3, run.err
    assert "resolves outside the repository" in run.err
    assert _contents(outside) == {"keep.txt": b"precious\n"}
    assert sorted(p.name for p in repo.iterdir()) == ["kubernetes"]


def test_mode_writes_the_file_a_symlink_names_and_keeps_the_link(tmp_path: Path) -> None:
    repo = create_repo(tmp_path / "flat", NewOptions("flat")).root
    real = (
        repo / "kubernetes/components/common/cluster-settings.data"
    )  # not *.yaml: read only through the link
    (repo / SETTINGS).rename(real)
    (repo / SETTINGS).symlink_to(real.name)
    run = cli("mode", "cert-issuer", "letsencrypt-prod", repo)
    assert run.code == 0, run.err
    assert (repo / SETTINGS).is_symlink()
    assert "CERT_ISSUER: letsencrypt-prod" in real.read_text()


@pytest.mark.parametrize("dry_run", [False, True], ids=["write", "dry-run"])
def test_mode_dry_run_writes_nothing(tmp_path: Path, dry_run: bool) -> None:
    repo = create_repo(tmp_path / "flat", NewOptions("flat")).root
    before = _contents(repo)
    argv = ["mode", "cert-issuer", "letsencrypt-prod", str(repo)] + (["--dry-run"] if dry_run else [])
    assert cli(*argv).code == 0
    after = _contents(repo)
    assert (after == before) is dry_run
    assert not (repo / ".homeops-lock").exists()
