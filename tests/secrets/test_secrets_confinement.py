"""The secrets writers and ``hook install`` never write through a symlink that leads out of the repository."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from secrets_testlib import Key

from homeops import hook
from homeops.errors import WriteError
from homeops.secrets import ops

Git = Callable[..., str]
PLAIN = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nstringData:\n  token: outside-value-5a1\n"


def test_init_force_refuses_a_sops_yaml_symlinked_out_of_the_repo(tmp_path: Path, age_key: Key) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    victim = tmp_path / "victim.yaml"
    victim.write_text("precious\n")
    (root / ".sops.yaml").symlink_to(victim)
    with pytest.raises(WriteError, match="resolves outside the repository"):
        ops.init(root, force=True)
    assert victim.read_text() == "precious\n" and (root / ".sops.yaml").is_symlink()


def test_encrypt_refuses_a_named_file_symlinked_out_of_the_repo(repo: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.sops.yaml"
    victim.write_text(PLAIN)
    link = repo / "kubernetes/apps/default/app/linked.sops.yaml"
    link.symlink_to(victim)
    with pytest.raises(WriteError, match="resolves outside the repository"):
        ops.encrypt(repo, paths=["kubernetes/apps/default/app/linked.sops.yaml"])
    assert victim.read_text() == PLAIN and link.is_symlink()


def test_hook_install_refuses_a_hooks_path_outside_the_repo(git_repo: Path, git: Git, tmp_path: Path) -> None:
    shared = tmp_path / "shared-hooks"
    shared.mkdir()
    git(git_repo, "config", "core.hooksPath", str(shared))
    with pytest.raises(WriteError, match="outside this repository"):
        hook.install(git_repo)
    assert list(shared.iterdir()) == []


def test_hook_install_refuses_a_hook_symlinked_out_of_the_repo(git_repo: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.sh"
    victim.write_text("#!/bin/sh\n# homeops-managed pre-commit hook\n")
    hooks = git_repo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "pre-commit").symlink_to(victim)
    with pytest.raises(WriteError, match="outside this repository"):
        hook.install(git_repo)
    assert victim.read_text() == "#!/bin/sh\n# homeops-managed pre-commit hook\n"
