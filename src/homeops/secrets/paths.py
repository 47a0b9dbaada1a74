"""Where a secret file's repository is, a file's path inside it, and whether Git would commit it."""

from __future__ import annotations

import os
from pathlib import Path

from .. import proc
from ..errors import UsageError, Where
from ..load.tree import join, normalize
from ..load.walk import read_ignore
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


def committable(root: Path, rel: str) -> bool:
    """Whether ``git add -A`` would commit the repo-relative path ``rel`` (it is tracked, or not ignored).

    Asks Git when ``root`` is in a work tree (``.gitignore`` files, ``.git/info/exclude`` and the user's
    global excludes all count); else reads the ``.gitignore`` files from ``root`` down, as Git would.
    """
    inside = proc.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=root, check=False)
    if inside.returncode != 0 or inside.text.strip() != "true":
        return not _ignored_by_gitignore(root, rel)
    if proc.run(["git", "ls-files", "--error-unmatch", "--", rel], cwd=root, check=False).returncode == 0:
        return True  # tracked: ignore rules no longer apply
    return proc.run(["git", "check-ignore", "-q", "--", rel], cwd=root, check=False).returncode != 0


def _ignored_by_gitignore(root: Path, rel: str) -> bool:
    parts = rel.split("/")
    stack = []
    for depth in range(len(parts)):
        folder = "/".join(parts[:depth])
        rules = read_ignore(str(root), join(folder, ".gitignore"))
        if rules:
            stack.append((folder, rules))
        path = "/".join(parts[: depth + 1])
        verdict: bool | None = None
        for base, found in stack:
            matched = found.match(path[len(base) + 1 :] if base else path, depth < len(parts) - 1)
            if matched is not None:
                verdict = matched
        if verdict:
            return True  # the file, or a folder above it (whose content Git never looks at)
    return False
