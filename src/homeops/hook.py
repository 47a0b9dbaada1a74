"""The Git pre-commit hook: judge exactly what a commit would record.

The hook is a small POSIX shell script that runs ``homeops hook run`` (:func:`check_commit`): the
secrets check of the staged blobs (:mod:`homeops.secrets.staged`), then the rule catalog over a
checkout of Git's index (what is staged, not the working tree, which may differ) in a private
RAM-backed folder. It reports the findings in the files the commit changes, and the findings the
change introduces elsewhere (those not found in ``HEAD``), so that a repository with old findings can
adopt the hook. The interpreter that installed the hook is called first, so the hook works from Git
GUIs whose PATH lacks the venv.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import git
from .errors import UsageError, WriteError
from .fsutil import atomic_write, private_tempdir
from .journal import locked

if TYPE_CHECKING:
    from .rules.base import Finding, Severity
    from .secrets.staged import StagedProblem

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
# -P: git runs this in the repository's root, whose own *.py files Python must not import.
if [ -x {interpreter} ] && {interpreter} -P -c 'import homeops' 2>/dev/null; then
    set -- {interpreter} -P -m homeops
elif command -v homeops >/dev/null 2>&1; then
    set -- homeops
else
    echo "homeops pre-commit: homeops is not installed (pip install homeops), commit refused" >&2
    exit 1
fi
exec "$@" hook run
"""


# -- what a commit would record --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommitCheck:
    """What the pre-commit hook found in the staged change."""

    secrets: tuple[StagedProblem, ...]
    """Staged files that would publish a secret."""
    findings: tuple[Finding, ...]
    """Findings in the files the commit changes, and findings the change introduces elsewhere."""
    older: int
    """Findings elsewhere that ``HEAD`` has too (not the commit's doing, not shown)."""
    fail_on: Severity
    """The lowest severity that refuses the commit (``fail-on`` of the staged ``.homeops.yaml``)."""

    @property
    def refused(self) -> bool:
        from .rules.base import at_or_above

        return bool(self.secrets) or bool(at_or_above(list(self.findings), self.fail_on))


def check_commit(repo: str | Path = ".") -> CommitCheck:
    """Check what is staged in the Git repository at ``repo`` (see the module docstring)."""
    from .secrets.staged import check_staged, git_toplevel

    top = git_toplevel(repo)
    secrets = check_staged(top)
    listing = _git(top, "diff", "--cached", "--name-only", "--no-renames", "-z")
    changed = {p for p in listing.decode("utf-8", "surrogateescape").split("\0") if p}
    with private_tempdir("homeops-index-") as scratch:
        staged_tree = scratch / "index"
        _git(top, "checkout-index", "--all", "--force", f"--prefix={staged_tree}/")
        staged_tree.mkdir(exist_ok=True)  # an empty index checks out nothing
        found, fail_on = _findings(staged_tree)
        mine = [f for f in found if f.path in changed]
        elsewhere = [f for f in found if f.path not in changed]
        older = 0
        if elsewhere and git.head(top) is not None:
            head_tree = scratch / "head"
            head_index = scratch / "head.index"
            _git(top, "read-tree", "HEAD", env={"GIT_INDEX_FILE": str(head_index)})
            _git(top, "checkout-index", "--all", "--force", f"--prefix={head_tree}/",
                 env={"GIT_INDEX_FILE": str(head_index)})  # fmt: skip
            head_tree.mkdir(exist_ok=True)
            before = Counter(_key(f) for f in _findings(head_tree)[0])
            introduced = []
            for finding in elsewhere:
                if before[_key(finding)] > 0:
                    before[_key(finding)] -= 1
                    older += 1
                else:
                    introduced.append(finding)
            elsewhere = introduced
    judged = sorted([*mine, *elsewhere], key=lambda f: f.sort_key())
    return CommitCheck(tuple(secrets), tuple(judged), older, fail_on)


def _findings(tree: Path) -> tuple[list[Finding], Severity]:
    from .rules.engine import run_checks
    from .workspace import open_workspace

    workspace = open_workspace(tree, use_cache=False)
    return run_checks(workspace.flux, workspace.config), workspace.config.fail_on


def _key(finding: Finding) -> tuple[str, str, int, str]:
    # Outside the changed files the content is the same on both sides: lines compare too.
    return (finding.rule, finding.path, finding.line, finding.message)


def _git(top: Path, *args: str, env: dict[str, str] | None = None) -> bytes:
    return git.run(top, *args, env=env).stdout


def hook_path(repo: str | Path) -> Path:
    """Where Git runs the pre-commit hook from (``core.hooksPath`` and worktrees honoured)."""
    return _locations(repo)[0]


def _locations(repo: str | Path) -> tuple[Path, Path, Path]:
    """(the hook, Git's common dir, the top of the work tree), absolute."""
    here = Path(repo).resolve()
    result = git.run(
        repo, "rev-parse", "--git-path", "hooks/pre-commit", "--git-common-dir", "--show-toplevel",
        check=False, what="git",
    )  # fmt: skip
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
