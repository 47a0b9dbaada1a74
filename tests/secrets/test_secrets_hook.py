"""``homeops hook install`` and the hook itself, run by real ``git commit``."""

from __future__ import annotations

import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from homeops import hook
from homeops.cli.main import main
from homeops.errors import UsageError, WriteError

Git = Callable[..., str]
PLAIN_SECRET = (
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hook-test-value\n"
)


def _commit(repo: Path, message: str = "change") -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, capture_output=True, text=True)


def test_install_writes_an_executable_hook(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hook", "install", str(git_repo)]) == 0
    path = git_repo / ".git" / "hooks" / "pre-commit"
    assert capsys.readouterr().out.strip() == str(path)
    assert path.stat().st_mode & stat.S_IXUSR
    assert hook.MARKER in path.read_text()
    again = hook.install(git_repo)  # ours: updated without --force
    assert again.replaced and again.backup is None


def test_foreign_hook_is_kept_unless_forced(git_repo: Path) -> None:
    path = git_repo / ".git" / "hooks" / "pre-commit"
    path.parent.mkdir(exist_ok=True)
    path.write_text("#!/bin/sh\necho mine\n")
    with pytest.raises(WriteError, match="not written by homeops"):
        hook.install(git_repo)
    assert path.read_text() == "#!/bin/sh\necho mine\n"
    result = hook.install(git_repo, force=True)
    assert result.backup is not None and result.backup.read_text() == "#!/bin/sh\necho mine\n"
    assert hook.MARKER in path.read_text()


def test_core_hooks_path_is_honoured(git_repo: Path, git: Git) -> None:
    git(git_repo, "config", "core.hooksPath", ".githooks")
    result = hook.install(git_repo)
    assert result.path == git_repo / ".githooks" / "pre-commit"
    assert result.path.is_file()


def test_not_a_git_repository(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        hook.install(tmp_path)


def test_installed_hook_refuses_a_plaintext_secret(git_repo: Path, git: Git) -> None:
    hook.install(git_repo)
    (git_repo / "secret.yaml").write_text(PLAIN_SECRET)
    git(git_repo, "add", "-A")
    refused = _commit(git_repo)
    assert refused.returncode != 0
    assert "secret.yaml:1: Secret db holds plaintext values" in refused.stdout + refused.stderr
    assert "hook-test-value" not in refused.stdout + refused.stderr
    assert git(git_repo, "rev-list", "--all") == ""  # nothing was committed


def test_the_hook_runs_no_python_file_of_the_repository(git_repo: Path, git: Git) -> None:
    # git runs the hook in the repository's root: a module there named as one homeops imports must not
    # be what Python imports (``python -m`` and ``-c`` put the current folder first on the path).
    hook.install(git_repo)
    marker = git_repo.parent / "repository-code-ran"
    for name in ("yaml.py", "homeops.py"):
        (git_repo / name).write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit(9)\n")
    (git_repo / "secret.yaml").write_text(PLAIN_SECRET)
    git(git_repo, "add", "secret.yaml")
    refused = _commit(git_repo)
    assert not marker.exists()
    assert "secret.yaml:1: Secret db holds plaintext values" in refused.stdout + refused.stderr


# -- what the hook judges: the index, and what the commit changes --------------------------------

BASE = Path(__file__).resolve().parents[1] / "testdata" / "rules" / "SEC005" / "pass"
APP = "kubernetes/apps/default/web/app"


@pytest.fixture
def flux_repo(tmp_path: Path, git: Git) -> Path:
    """A small clean Flux repository, committed, with the hook installed."""
    import shutil

    root = tmp_path / "flux"
    shutil.copytree(BASE, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    hook.install(root)
    return root


def _with_old_finding(repo: Path, git: Git) -> None:
    """An error committed long ago (bypassing the hook): a Secret in plaintext."""
    (repo / APP / "legacy.yaml").write_text(PLAIN_SECRET)
    kustomization = repo / APP / "kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text().replace(
            "  - ./helmrelease.yaml\n", "  - ./helmrelease.yaml\n  - ./legacy.yaml\n"
        )
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", "legacy")


def test_the_hook_checks_the_index_not_the_working_tree(flux_repo: Path, git: Git) -> None:
    helmrelease = flux_repo / APP / "helmrelease.yaml"
    text = helmrelease.read_text()
    git(flux_repo, "rm", "-q", f"{APP}/helmrelease.yaml")  # staged: the app no longer builds
    helmrelease.write_text(text)  # ... but the working tree still has it
    refused = _commit(flux_repo)
    assert refused.returncode != 0
    assert f"{APP}/kustomization.yaml:5 LOAD002 error" in refused.stderr  # git shows hooks' output there
    assert git(flux_repo, "rev-list", "--count", "HEAD").strip() == "1"


def test_a_staged_fix_is_enough_when_the_working_tree_is_still_broken(flux_repo: Path, git: Git) -> None:
    (flux_repo / APP / "notes.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: n\n")
    git(flux_repo, "add", "-A")
    (flux_repo / APP / "helmrelease.yaml").unlink()  # broken, but not staged: not what is committed
    allowed = _commit(flux_repo)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


def test_old_findings_elsewhere_do_not_block_an_unrelated_commit(flux_repo: Path, git: Git) -> None:
    _with_old_finding(flux_repo, git)
    (flux_repo / "README.md").write_text("docs\n")
    git(flux_repo, "add", "README.md")
    allowed = _commit(flux_repo)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "legacy.yaml" not in allowed.stderr
    assert "1 older finding(s) elsewhere not shown" in allowed.stderr


def test_findings_in_a_changed_file_block(flux_repo: Path, git: Git) -> None:
    _with_old_finding(flux_repo, git)
    legacy = flux_repo / APP / "legacy.yaml"
    legacy.write_text("# touched\n" + legacy.read_text())
    git(flux_repo, "add", "-A")
    refused = _commit(flux_repo)
    assert refused.returncode != 0
    assert f"{APP}/legacy.yaml" in refused.stderr and "SEC001" in refused.stderr


def test_a_finding_the_change_introduces_elsewhere_blocks(flux_repo: Path, git: Git) -> None:
    _with_old_finding(flux_repo, git)
    git(flux_repo, "rm", "-q", f"{APP}/helmrelease.yaml")
    refused = _commit(flux_repo)
    assert refused.returncode != 0
    assert f"{APP}/kustomization.yaml" in refused.stderr and "LOAD002" in refused.stderr
    assert "legacy.yaml" not in refused.stderr  # the old finding is not the commit's doing


def test_a_plaintext_secret_generator_is_refused(flux_repo: Path, git: Git) -> None:
    kustomization = flux_repo / APP / "kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text().replace("- DOMAIN=${SECRET_DOMAIN}", "- PASSWORD=hunter2-hook-value")
    )
    (flux_repo / APP / "extra.env").write_text("TOKEN=abc-hook-token\n")
    kustomization.write_text(
        kustomization.read_text().replace(
            "      - ./web.sops.env", "      - ./web.sops.env\n      - ./extra.env"
        )
    )
    git(flux_repo, "add", "-A")
    refused = _commit(flux_repo)
    assert refused.returncode != 0
    out = refused.stdout + refused.stderr
    assert "writes the literal value of PASSWORD into the Secret in plaintext" in out
    assert "reads the plaintext env file ./extra.env" in out
    assert "hunter2-hook-value" not in out and "abc-hook-token" not in out


def test_the_first_commit_is_judged_whole(tmp_path: Path, git: Git) -> None:
    import shutil

    root = tmp_path / "fresh"
    shutil.copytree(BASE, root)
    git(root, "init", "-q", "-b", "main")
    hook.install(root)
    (root / APP / "legacy.yaml").write_text(PLAIN_SECRET)
    git(root, "add", "-A")
    assert _commit(root).returncode != 0
    (root / APP / "legacy.yaml").unlink()
    git(root, "add", "-A")
    assert _commit(root).returncode == 0


def test_pre_commit_framework_manifest() -> None:
    manifest = Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml"
    hooks = {h["id"]: h for h in yaml.safe_load(manifest.read_text())}
    assert hooks["homeops-secrets"]["entry"] == "homeops secrets check-staged"
    assert hooks["homeops-check"]["entry"] == "homeops hook run"
    assert all(h["pass_filenames"] is False and h["language"] == "python" for h in hooks.values())
