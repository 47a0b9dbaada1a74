"""``homeops hook install`` and the hook itself, run by real ``git commit``."""

from __future__ import annotations

import stat
import subprocess
import sys
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


def _fake_interpreter(tmp_path: Path, check_help: str, check_exit: int) -> tuple[Path, Path]:
    """Stands in for the Python that installed the hook: forwards 'secrets' to the real homeops and
    plays a 'check' command with the given --help text and exit code, logging its calls."""
    log = tmp_path / "calls.log"
    script = tmp_path / "fake-python"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-c" ]; then exit 0; fi\n'
        "shift 2\n"
        f'if [ "$1" = "check" ]; then echo "$*" >> {log}\n'
        f'  if [ "$2" = "--help" ]; then echo "{check_help}"; exit 0; fi\n'
        f"  exit {check_exit}\nfi\n"
        f'exec {sys.executable} -m homeops "$@"\n'
    )
    script.chmod(0o755)
    return script, log


@pytest.mark.parametrize(
    ("check_help", "check_exit", "committed", "check_ran"),
    [
        ("usage: homeops check [--fail-on {error,warning}] PATH", 0, True, True),
        ("usage: homeops check [--fail-on {error,warning}] PATH", 1, False, True),
        # an older check without --fail-on: skipped rather than blocking every commit
        ("usage: homeops check PATH", 1, True, False),
    ],
)
def test_hook_runs_check_only_when_available(
    git_repo: Path,
    git: Git,
    tmp_path: Path,
    check_help: str,
    check_exit: int,
    committed: bool,
    check_ran: bool,
) -> None:
    python, log = _fake_interpreter(tmp_path, check_help, check_exit)
    path = hook.hook_path(git_repo)
    path.parent.mkdir(exist_ok=True)
    path.write_text(hook.hook_script(str(python)))
    path.chmod(0o755)
    (git_repo / "config.yaml").write_text(yaml.safe_dump({"a": 1}))
    git(git_repo, "add", "-A")
    result = _commit(git_repo)
    assert (result.returncode == 0) is committed, result.stderr
    calls = log.read_text().splitlines() if log.exists() else []
    assert calls[0] == "check --help"
    assert ("check --fail-on error ." in calls) is check_ran


def test_pre_commit_framework_manifest() -> None:
    manifest = Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml"
    hooks = {h["id"]: h for h in yaml.safe_load(manifest.read_text())}
    assert hooks["homeops-secrets"]["entry"] == "homeops secrets check-staged"
    assert hooks["homeops-check"]["entry"] == "homeops check --fail-on error ."
    assert all(h["pass_filenames"] is False and h["language"] == "python" for h in hooks.values())
