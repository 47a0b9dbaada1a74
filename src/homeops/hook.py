"""The Git pre-commit hook: refuse commits that would publish a secret, then run ``homeops check``.

The hook is a small POSIX shell script. It runs ``homeops secrets check-staged`` and, when this
homeops has a ``check`` command that knows ``--fail-on``, ``homeops check --fail-on error .``; an
older or partial install skips the check instead of blocking every commit. The interpreter that
installed the hook is called first, so the hook works from Git GUIs whose PATH lacks the venv.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from . import proc
from .errors import UsageError, WriteError
from .fsutil import atomic_write

#: Marks a hook written by homeops (re-installing over it needs no --force).
MARKER = "# homeops-managed pre-commit hook"
BACKUP_SUFFIX = ".homeops-backup"


@dataclass(frozen=True, slots=True)
class HookInstall:
    path: Path
    """The hook file written."""
    replaced: bool
    """A hook was there before (ours, updated; or a foreign one, backed up)."""
    backup: Path | None
    """Where a foreign hook was moved to (``--force``)."""


def hook_script(python: str | None = None) -> str:
    """The text of the pre-commit hook."""
    interpreter = shlex.quote(python or sys.executable)
    return f"""#!/bin/sh
{MARKER}: written by `homeops hook install`; re-run it to update.
# Bypass once (not recommended): git commit --no-verify
if [ -x {interpreter} ] && {interpreter} -c 'import homeops' 2>/dev/null; then
    set -- {interpreter} -m homeops
elif command -v homeops >/dev/null 2>&1; then
    set -- homeops
else
    echo "homeops pre-commit: homeops is not installed (pip install homeops), commit refused" >&2
    exit 1
fi
"$@" secrets check-staged || exit 1
if "$@" check --help 2>/dev/null | grep -q -- --fail-on; then
    "$@" check --fail-on error . || exit 1
fi
exit 0
"""


def hook_path(repo: str | Path) -> Path:
    """Where Git runs the pre-commit hook from (``core.hooksPath`` and worktrees honoured)."""
    result = proc.run(
        ["git", "rev-parse", "--git-path", "hooks/pre-commit"], cwd=repo, check=False, what="git"
    )
    if result.returncode != 0:
        raise UsageError(f"{repo} is not inside a Git repository", hint="run 'git init' first")
    path = Path(result.text.strip())
    return path if path.is_absolute() else Path(repo).resolve() / path


def install(repo: str | Path, *, force: bool = False) -> HookInstall:
    """Write the pre-commit hook (mode 0755). A hook homeops did not write is kept unless ``force``,
    which moves it aside to ``pre-commit.homeops-backup``."""
    path = hook_path(repo)
    backup: Path | None = None
    existed = path.exists()
    if existed:
        try:
            current = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise WriteError(f"cannot read the existing hook {path}: {exc.strerror or exc}") from exc
        if MARKER not in current:
            if not force:
                raise WriteError(
                    f"{path} exists and was not written by homeops",
                    hint="pass --force to move it aside (to pre-commit.homeops-backup), or add "
                    "'homeops secrets check-staged' to it yourself",
                )
            backup = path.with_name(path.name + BACKUP_SUFFIX)
            try:
                shutil.copy2(path, backup)
            except OSError as exc:
                raise WriteError(f"cannot back up {path}: {exc.strerror or exc}") from exc
    atomic_write(path, hook_script(), mode=0o755)
    return HookInstall(path, existed, backup)
