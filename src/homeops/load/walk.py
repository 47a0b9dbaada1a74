"""Which files a repository has, as Git would track them: ``.gitignore`` honoured, ``.git`` skipped.

Symlinks are followed only when they stay inside the repository; one that points outside is left out
and recorded, and so is a folder or file that cannot be read (``git status`` warns and goes on). This
module imports almost nothing, so that a cached ``check`` can fingerprint the repository without
loading the rest of homeops.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: this runs at start-up
if TYPE_CHECKING:
    from .ignore import IgnoreRules


class Walk:
    """The files of one repository and what was learnt on the way."""

    __slots__ = ("escapes", "files", "listings", "stats", "unreadable")

    def __init__(self) -> None:
        self.files: list[str] = []
        """Repo-relative POSIX paths, sorted."""
        self.stats: dict[str, tuple[int, int]] = {}
        """(size, mtime_ns) of every file."""
        self.escapes: list[str] = []
        """Symlinks that point outside the repository (never followed)."""
        self.unreadable: list[tuple[str, str]] = []
        """(repo-relative path, why) of folders and files that could not be read (permission denied):
        what is below them is missing from ``files``."""
        self.listings: dict[str, frozenset[str]] = {}
        """The names of every entry of each folder the walk read, ignored ones included (what is not
        there is missing), by repo-relative path."""

    def plain(self) -> dict[str, object]:
        """The walk as plain data, for ``marshal`` (a resident process's caller hands it over)."""
        return {
            "files": self.files,
            "stats": self.stats,
            "escapes": self.escapes,
            "unreadable": self.unreadable,
            "listings": self.listings,
        }

    @classmethod
    def from_plain(cls, data: object) -> Walk | None:
        """The walk :meth:`plain` made; None when ``data`` is not one."""
        if not isinstance(data, dict):
            return None
        result = cls()
        try:
            result.files = list(data["files"])
            result.stats = {str(rel): (int(size), int(mtime)) for rel, (size, mtime) in data["stats"].items()}
            result.escapes = [str(rel) for rel in data["escapes"]]
            result.unreadable = [(str(rel), str(why)) for rel, why in data["unreadable"]]
            result.listings = {str(rel): frozenset(names) for rel, names in data["listings"].items()}
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        if not all(isinstance(rel, str) and rel in result.stats for rel in result.files):
            return None
        return result


def repository_root(path: str) -> str:
    """The resolved folder ``path`` names; a usage error when it is missing or not a folder."""
    if not os.path.isdir(path):
        # imported here, where it fails: the cached answer of check loads no ``homeops.errors`` (and
        # no ``enum``)
        from ..errors import UsageError

        if not os.path.exists(path):
            raise UsageError(f"{path}: no such directory")
        raise UsageError(f"{path}: not a directory", hint="homeops works on a repository folder")
    return os.path.realpath(path)


def walk(root: str) -> Walk:
    """Every file below ``root`` (an absolute folder without symlinks) that Git would track.

    Raises :class:`OSError` (naming ``root``) when ``root`` itself cannot be read."""
    result = Walk()
    _Walker(root, result).folder("", [], {os.stat(root).st_ino})
    result.files.sort()
    return result


def read_ignore(root: str, rel: str) -> IgnoreRules | None:
    """The rules of one ignore file (None when absent, unreadable, empty or a symlink: Git does not
    follow a symlinked ``.gitignore`` either, so one cannot make homeops read a file elsewhere)."""
    from .ignore import IgnoreRules  # here: a repository without ignore files never loads ``re``

    try:
        fd = os.open(os.path.join(root, rel), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with open(fd, encoding="utf-8", errors="replace") as handle:
            rules = IgnoreRules(handle.read().splitlines())
    except OSError:
        return None
    return rules if rules else None


def inside(root: str, full: str) -> bool:
    """Whether ``full`` resolves (through any symlinks) to ``root`` or below it."""
    try:
        real = os.path.realpath(full)
    except (OSError, RuntimeError):
        return False
    return real == root or real.startswith(root + os.sep)


def read_file(path: str) -> bytes:
    """The bytes of a file, with fewer system calls and objects than ``open(path, "rb").read()`` (no
    buffered reader, no terminal check): a check reads every file of a repository. Raises the same
    ``OSError`` subclasses, naming ``path``."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = [os.read(fd, _CHUNK)]
        while chunks[-1]:
            chunks.append(os.read(fd, _CHUNK))
    except OSError as exc:  # a folder opens, and fails to read: name it, as open() does
        raise type(exc)(exc.errno, exc.strerror, path) from None
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 2 else b"".join(chunks)


_CHUNK = 1 << 18
"""Read size: larger than nearly every YAML file of a repository (one read, then the empty one)."""


class LeadsOutside(OSError):
    """A file of the repository is a symlink (or lies below one) that leads outside it."""


def read_inside(root: str | os.PathLike[str], rel: str) -> bytes:
    """The bytes of the file ``rel`` of the repository at ``root``; raises :class:`LeadsOutside`
    (an ``OSError``) when a symlink leads it out of the repository, instead of reading there."""
    full = os.path.join(root, rel)
    if not inside(os.path.realpath(root), full):
        raise LeadsOutside(f"{rel} is a symlink that leads outside the repository; it is not read")
    with open(full, "rb") as handle:
        return handle.read()


class _Walker:
    def __init__(self, root: str, result: Walk) -> None:
        self.root = root
        self.result = result

    def folder(self, folder: str, stack: list[tuple[str, IgnoreRules]], ancestors: set[int]) -> None:
        """Add the files below ``folder``; ``ancestors``: inodes of the folders above (a loop guard)."""
        base = os.path.join(self.root, folder) if folder else self.root
        try:
            with os.scandir(base) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            if not folder:
                raise  # an unreadable root is an error, not an empty repository
            self._unreadable(folder, exc)
            return
        self.result.listings[folder] = frozenset(e.name for e in entries)
        if any(e.name == ".gitignore" for e in entries):
            key = f"{folder}/.gitignore" if folder else ".gitignore"
            rules = read_ignore(self.root, key)
            if rules:
                stack = [*stack, (folder, rules)]
        stats = self.result.stats
        files = self.result.files
        for entry in entries:
            name = entry.name
            if name == ".git":
                continue
            rel = f"{folder}/{name}" if folder else name
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir()
                is_file = not is_dir and entry.is_file()
            except OSError as exc:
                self._unreadable(rel, exc)
                continue
            if is_link and not inside(self.root, entry.path):
                self.result.escapes.append(rel)
                continue
            if stack and (is_dir or is_file) and _ignored(stack, rel, is_dir):
                continue
            try:
                if is_dir:
                    inode = entry.stat().st_ino if is_link else entry.inode()
                    if inode not in ancestors:  # else a link back to a folder above: a loop
                        self.folder(rel, stack, ancestors | {inode})
                elif is_file:
                    st = entry.stat()
                    stats[rel] = (st.st_size, st.st_mtime_ns)
                    files.append(rel)
            except OSError as exc:
                self._unreadable(rel, exc)

    def _unreadable(self, rel: str, exc: OSError) -> None:
        """Record what could not be read; a dangling link, or a file that went away, is simply not
        there."""
        if isinstance(exc, FileNotFoundError | NotADirectoryError):
            return
        self.result.unreadable.append((rel, exc.strerror or str(exc)))


def _ignored(stack: list[tuple[str, IgnoreRules]], rel: str, is_dir: bool) -> bool:
    verdict: bool | None = None
    for base, rules in stack:
        sub = rel[len(base) + 1 :] if base else rel
        found = rules.match(sub, is_dir)
        if found is not None:
            verdict = found
    return bool(verdict)


#: Fields of a kustomization that name files or folders (for :func:`kustomize_root`).
_PATH_LISTS = ("resources", "bases", "components", "crds", "configurations", "patchesStrategicMerge")
_KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def kustomize_root(target: str) -> str:
    """The source root for building the folder ``target`` as ``kubectl kustomize`` would.

    Inside a Git repository, the repository (what Flux's artifact holds: nothing outside it can be
    read). Outside one, plain kustomize reads wherever the kustomizations point, so the root is the
    closest folder that holds ``target`` and every folder and file its kustomizations name,
    transitively (``../base`` included); an absolute path, a symlink or a remote base does not widen
    it.
    """
    start = os.path.realpath(target)
    folder = start if os.path.isdir(start) else os.path.dirname(start)
    probe = folder
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    reached: set[str] = set()
    _reach(folder, reached)
    return os.path.commonpath(sorted(reached)) if reached else folder


def _reach(folder: str, reached: set[str]) -> None:
    if folder in reached or len(reached) > 10_000:
        return
    reached.add(folder)
    for name in _KUSTOMIZATION_FILES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            break
    else:
        return
    from .yamlio import parse

    try:
        with open(path, "rb") as handle:
            parsed = parse(handle.read())
    except OSError:
        return
    data = parsed.documents[0] if parsed.documents else None
    if not isinstance(data, dict):
        return
    entries: list[str] = []
    for field in _PATH_LISTS:
        value = data.get(field)
        entries += [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
    for field in ("patches", "patchesJson6902", "replacements"):
        value = data.get(field)
        for item in value if isinstance(value, list) else []:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                entries.append(item["path"])
    for field in ("configMapGenerator", "secretGenerator"):
        value = data.get(field)
        for item in value if isinstance(value, list) else []:
            for key in ("files", "envs"):
                names = item.get(key) if isinstance(item, dict) else None
                entries += (
                    [n.rpartition("=")[2] for n in names if isinstance(n, str)]
                    if isinstance(names, list)
                    else []
                )
    for entry in entries:
        if (
            "://" in entry
            or entry.startswith(("/", "git@", "github.com/"))
            or "\n" in entry
            or "?ref=" in entry
        ):
            continue
        # lexically: a symlink that leads elsewhere does not widen the root (it is refused instead)
        full = os.path.normpath(os.path.join(folder, entry))
        if os.path.isdir(full):
            _reach(full, reached)
        elif os.path.exists(full):
            reached.add(os.path.dirname(full))
