"""The Git pre-commit hook: refuse commits that would publish a secret, then run ``homeops check``.

The hook is a small POSIX shell script. It runs ``homeops secrets check-staged`` and, when this
homeops has a ``check`` command that knows ``--fail-on``, ``homeops check --fail-on error .``; an
older or partial install skips the check instead of blocking every commit. The interpreter that
installed the hook is called first, so the hook works from Git GUIs whose PATH lacks the venv.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from . import proc
from .errors import UsageError, WriteError
from .fsutil import atomic_write
from .journal import locked

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
    return _locations(repo)[0]


def _locations(repo: str | Path) -> tuple[Path, Path, Path]:
    """(the hook, Git's common dir, the top of the work tree), absolute."""
    here = Path(repo).resolve()
    result = proc.run(
        ["git", "rev-parse", "--git-path", "hooks/pre-commit", "--git-common-dir", "--show-toplevel"],
        cwd=repo,
        check=False,
        what="git",
    )
    lines = result.text.splitlines()
    if result.returncode != 0 or len(lines) != 3:
        raise UsageError(f"{repo} is not inside a Git repository", hint="run 'git init' first")
    hook, common, top = (Path(line) if Path(line).is_absolute() else here / line for line in lines)
    return hook, common, top


def _confined(hook: Path, common: Path, top: Path) -> Path:
    """The real hook file, refused when it (or a symlink on the way) is outside the repository."""
    real = Path(os.path.realpath(hook))
    for base in (common, top):
        base = Path(os.path.realpath(base))
        if real == base or base in real.parents:
            return real
    raise WriteError(
        f"refusing to write the hook {hook}: it resolves to {real}, outside this repository",
        hint="core.hooksPath (or a symlink) points outside the repository, where the hook would run "
        "for other repositories too; add 'homeops secrets check-staged' to that hook yourself",
    )


def install(repo: str | Path, *, force: bool = False) -> HookInstall:
    """Write the pre-commit hook (mode 0755). A hook homeops did not write is kept unless ``force``,
    which moves it aside to ``pre-commit.homeops-backup``."""
    hook, common, top = _locations(repo)
    with locked(top, "hook install"):
        path = _confined(hook, common, top)
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
                        f"{hook} exists and was not written by homeops",
                        hint="pass --force to move it aside (to pre-commit.homeops-backup), or add "
                        "'homeops secrets check-staged' to it yourself",
                    )
                backup = _confined(path.with_name(path.name + BACKUP_SUFFIX), common, top)
                try:
                    shutil.copy2(path, backup)
                except OSError as exc:
                    raise WriteError(f"cannot back up {path}: {exc.strerror or exc}") from exc
        atomic_write(path, hook_script(), mode=0o755)
    return HookInstall(hook, existed, backup)
