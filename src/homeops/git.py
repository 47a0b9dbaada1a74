"""The one gateway to Git: every ``git`` homeops runs goes through :func:`run` (on ``proc.run``), with
the environment it always wants, and the questions several commands ask (the work tree's top, HEAD,
whether a path is tracked) are answered here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from . import proc

ENV = {
    "GIT_TERMINAL_PROMPT": "0",  # never wait for a password on a terminal nobody watches
    "GIT_OPTIONAL_LOCKS": "0",  # reading never takes the index lock a concurrent git needs
    "GIT_LFS_SKIP_SMUDGE": "1",  # checkouts of other revisions never download LFS objects
}


def run(
    cwd: str | Path | None,
    *args: str,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    what: str | None = None,
    hint: str | None = None,
    timeout: float = 300.0,
) -> proc.Result:
    """``git ARGS`` in ``cwd``; ``env`` adds to :data:`ENV`. A failure raises ``ToolError`` unless
    ``check`` is false."""
    return proc.run(
        ["git", *args],
        cwd=cwd,
        env={**ENV, **(env or {})},
        input=input,
        check=check,
        what=what or f"git {args[0]}",
        hint=hint,
        timeout=timeout,
    )


def toplevel(path: str | Path) -> Path | None:
    """The top of the Git work tree ``path`` is in; None when it is in none."""
    result = run(path, "rev-parse", "--show-toplevel", check=False)
    return Path(result.text.strip()) if result.returncode == 0 else None


def head(path: str | Path) -> str | None:
    """The commit HEAD names; None outside a work tree or before the first commit."""
    result = run(path, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
    text = result.text.strip()
    return text if result.returncode == 0 and text else None


def is_tracked(top: str | Path, rel: str) -> bool:
    """Whether Git tracks ``rel`` (a path relative to ``top``)."""
    return run(top, "ls-files", "--error-unmatch", "--", rel, check=False).returncode == 0
