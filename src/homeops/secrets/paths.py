"""Where a secret file's repository is, and a file's path inside it."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import UsageError, Where
from ..load.tree import normalize
from .config import CONFIG_NAME


def find_repo_root(path: str | Path) -> Path:
    """The repository a file belongs to: the nearest folder holding ``.sops.yaml``, else ``.git``,
    else the file's own folder."""
    start = Path(path).resolve()
    folder = start if start.is_dir() else start.parent
    for marker in (CONFIG_NAME, ".git"):
        for candidate in (folder, *folder.parents):
            if (candidate / marker).exists():
                return candidate
    return folder


def repo_relative(root: Path, path: str | Path) -> str:
    """Repo-relative form of a file given relative to the repository, to the cwd, or absolute."""
    given = Path(path)
    candidates = [given] if given.is_absolute() else [Path.cwd() / given, root / given]
    for candidate in candidates:
        if not candidate.is_file():
            continue
        try:
            return candidate.resolve().relative_to(root).as_posix()
        except ValueError:
            continue
    norm = normalize(str(path).replace(os.sep, "/"))
    if norm and (root / norm).is_file():
        return norm
    raise UsageError(f"{path}: no such file in the repository {root}")


def read(root: Path, rel: str) -> bytes:
    try:
        return (root / rel).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {rel}: {exc.strerror or exc}", where=Where(rel)) from exc
