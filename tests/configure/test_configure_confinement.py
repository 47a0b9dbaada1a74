"""configure renders only what the repository holds: a data file, a template or an include that
leads outside it (a path in makejinja.toml, a symlink to a file or a folder) is refused or left out,
and nothing of it reaches an output that would then be committed. Real ``homeops configure`` runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from configure_testlib import make_mini_repo

CANARY = "CANARY-91e2-outside-the-repository"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_mini_repo(tmp_path / "repo", secret_value="s3cret-value-x")
    (tmp_path / "outside.yaml").write_text(f"---\nstolen: {CANARY}\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "x.yaml").write_text(f"{CANARY}\n")
    return root


def _configure(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "homeops", "configure", str(root)],
        env={**os.environ, "SOPS_AGE_KEY_FILE": str(root / "age.key")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _leaked(root: Path) -> list[str]:
    """Files (not the test's own symlinks) that hold the canary."""
    found = (p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    return [str(p) for p in found if CANARY.encode() in p.read_bytes()]


def test_a_data_file_outside_the_repository_is_refused(repo: Path) -> None:
    toml = repo / "makejinja.toml"
    toml.write_text(
        toml.read_text().replace('data = ["./values.yaml"]', 'data = ["./values.yaml", "../outside.yaml"]')
    )
    template = repo / "templates/kubernetes/apps/demo/app.yaml.j2"
    template.write_text(template.read_text() + "\n# #{ stolen }#\n")
    done = _configure(repo)
    assert _leaked(repo) == []
    assert done.returncode == 2
    assert "data entry" in done.stderr and "is outside the repository" in done.stderr


def test_a_data_file_symlinked_outside_the_repository_is_refused(repo: Path) -> None:
    os.symlink(repo.parent / "outside.yaml", repo / "extra.yaml")
    toml = repo / "makejinja.toml"
    toml.write_text(
        toml.read_text().replace('data = ["./values.yaml"]', 'data = ["./values.yaml", "./extra.yaml"]')
    )
    done = _configure(repo)
    assert _leaked(repo) == []
    assert done.returncode == 2 and "is outside the repository" in done.stderr


def test_templates_through_symlinks_leading_outside_are_left_out(repo: Path) -> None:
    demo = repo / "templates/kubernetes/apps/demo"
    os.symlink(repo.parent / "outside.yaml", demo / "leak.yaml.j2")
    os.symlink(repo.parent / "outside.yaml", demo / "copied.txt")
    done = _configure(repo)
    assert done.returncode == 0, done.stderr
    assert _leaked(repo) == []
    assert not (repo / "kubernetes/apps/demo/leak.yaml").exists()
    assert (repo / "kubernetes/apps/demo/app.yaml").is_file()  # the rest is rendered


def test_an_include_through_a_symlinked_folder_is_not_found(repo: Path) -> None:
    demo = repo / "templates/kubernetes/apps/demo"
    os.symlink(repo.parent / "folder", demo / "linked")
    template = demo / "app.yaml.j2"
    template.write_text(template.read_text() + '\n# #% include "kubernetes/apps/demo/linked/x.yaml" %#\n')
    done = _configure(repo)
    assert _leaked(repo) == []
    assert done.returncode == 3
    assert "TemplateNotFound" in done.stderr and "nothing was written" in done.stderr
