"""One writer per repository, and changes to many files that survive a crash.

Every command that writes to a repository holds the repository's lock (:func:`locked`) from its
first read to its last write; a second writer waits a few seconds, then fails naming the first.

Writes go through :class:`Transaction`. Every target is first resolved through its symlinks: one
that leads outside the repository, or into Git's own folder, is refused before anything is written.
New contents are staged in the repository's state folder (``<git dir>/homeops``, or
``.homeops-lock`` at the root of a folder outside Git), where ``git add -A`` never sees them. When all
are staged, a journal listing every replacement is written, and only then are the files renamed into
place. A run killed half-way, even by SIGKILL, leaves the journal behind: the next homeops write to
the repository finishes the change before it does anything else (:func:`recover`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from .errors import UsageError, Where, WriteError
from .fsutil import sweep_once
from .interrupts import catch_signals, held_signals

STATE_NAME = "homeops"
"""The state folder's name inside the Git dir."""
LOCK_FOLDER = ".homeops-lock"
"""The state folder of a repository that is not a Git work tree (it exists only while writing)."""
LOCK_WAIT_ENV = "HOMEOPS_LOCK_WAIT"
"""Seconds a writer waits for another one to finish (default :data:`DEFAULT_WAIT`)."""
DEFAULT_WAIT = 5.0
PAUSE_ENV = "HOMEOPS_PAUSE_AT"
"""``POINT[:N]``: stop for good the N-th time the run reaches ``POINT`` (the crash tests kill it there)."""

_LOG = logging.getLogger("homeops")
_txn_counter = [0]
"""Transactions this process has started (names their folders)."""
_JOURNAL = "journal.json"
_OWNER = "owner.json"


# -- where things are --------------------------------------------------------------------------


def git_dir(root: Path) -> Path | None:
    """The Git dir of the work tree holding ``root`` (``.git``, or where a ``.git`` file points)."""
    for folder in (root, *root.parents):
        dotgit = folder / ".git"
        try:
            if dotgit.is_dir():
                return dotgit
            if dotgit.is_file():
                text = dotgit.read_text(encoding="utf-8", errors="replace").strip()
                if text.startswith("gitdir:"):
                    return (folder / text[len("gitdir:") :].strip()).resolve()
                return None
        except OSError:
            return None
    return None


def state_dir(root: str | Path) -> Path:
    """Where the lock, the journal and the staged files of the repository at ``root`` live."""
    base = Path(os.path.realpath(root))
    found = git_dir(base)
    return found / STATE_NAME if found is not None else base / LOCK_FOLDER


def confine(root: str | Path, path: str | Path) -> Path:
    """The real file ``path`` (absolute, or relative to ``root``) names once every symlink on the way
    is followed. Refused (:class:`WriteError`) when that leaves the repository or enters Git's folder.
    """
    base = Path(os.path.realpath(root))
    given = Path(path) if Path(path).is_absolute() else base / path
    shown = os.path.relpath(os.path.abspath(given), base)
    real = Path(os.path.realpath(given))
    try:
        parts = real.relative_to(base).parts
    except ValueError:
        raise WriteError(
            f"refusing to write: the path resolves outside the repository (to {real})",
            where=Where(shown),
            hint="a symlink on the way points out of the repository; replace it with a real "
            "file or folder, or remove it",
        ) from None
    if ".git" in parts or LOCK_FOLDER in parts:
        raise WriteError(
            f"refusing to write: the path resolves into {real.parent}, which is not part of the work tree",
            where=Where(shown),
            hint="a symlink on the way points into Git's own folder; remove it",
        )
    return real


# -- the lock ----------------------------------------------------------------------------------


@dataclasses.dataclass
class _Held:
    fd: int
    depth: int


_held: dict[Path, _Held] = {}
"""Locks this process holds, by state folder (taking one again nests instead of waiting)."""


@contextlib.contextmanager
def locked(root: str | Path, what: str) -> Iterator[None]:
    """Hold the repository's write lock for the block; finish an interrupted write first.

    ``what`` names the operation for a writer that has to wait (``secrets rotate``). Inside the block
    SIGTERM, SIGHUP and the other terminating signals raise :class:`~homeops.errors.Interrupted`, so
    that every cleanup runs.
    """
    base = Path(os.path.realpath(root))
    if not base.is_dir():
        raise UsageError(f"{root}: no such directory")
    state = state_dir(base)
    held = _held.get(state)
    if held is not None:
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
        return
    with catch_signals():
        fd = _acquire(state, what)
        _held[state] = _Held(fd, 1)
        try:
            recover(state)
            legacy = base / LOCK_FOLDER
            if legacy != state and legacy.is_dir():  # left outside Git, before a 'git init'
                _adopt_legacy(legacy, what)
            sweep_once()
            yield
        finally:
            del _held[state]
            _release(state, fd)


def _adopt_legacy(legacy: Path, what: str) -> None:
    """Finish a change a crash left in the lock folder of a repository that is now in Git."""
    fd = _acquire(legacy, what)
    try:
        recover(legacy)
    finally:
        _release(legacy, fd)


def _wait_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get(LOCK_WAIT_ENV, DEFAULT_WAIT)))
    except ValueError:
        return DEFAULT_WAIT


def _acquire(state: Path, what: str) -> int:
    path = state / "lock"
    deadline = time.monotonic() + _wait_seconds()
    while True:
        try:
            # Made again on every try: the holder removes the folder when it lets go.
            state.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise WriteError(f"cannot create the lock {path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise _busy(path) from None
            time.sleep(0.05)
            continue
        # The previous holder removes the file before letting go: make sure ours is still the one.
        try:
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    if state.name == LOCK_FOLDER:
        # Outside Git today, maybe a Git repository tomorrow: what a crash leaves here stays ignored.
        with contextlib.suppress(OSError):
            ignore = state / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n")
    owner = {"pid": os.getpid(), "what": what, "since": datetime.now().strftime("%Y-%m-%d %H:%M:%S")}
    try:
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(owner).encode("utf-8"))
    except OSError:
        pass  # a full disk: the lock holds all the same, a waiting writer just cannot name its holder
    return fd


def _busy(path: Path) -> WriteError:
    try:
        owner = json.loads(path.read_text(encoding="utf-8"))
        who = f"'homeops {owner['what']}' (pid {owner['pid']}, since {owner['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        who = "another homeops process"
    return WriteError(
        f"{who} is writing to this repository; gave up after waiting {_wait_seconds():g}s",
        hint=f"let it finish, then run the command again (the lock is {path}; it is released "
        "when that process ends)",
    )


def _release(state: Path, fd: int) -> None:
    with contextlib.suppress(OSError):
        (state / "lock").unlink()
    if state.name == LOCK_FOLDER and not any(state.glob("txn-*")):
        with contextlib.suppress(OSError):
            (state / ".gitignore").unlink()
    os.close(fd)
    with contextlib.suppress(OSError):
        state.rmdir()  # only when empty: nothing is left behind after a clean run


# -- the journal -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Entry:
    target: str
    """Absolute real path of the file to replace or delete."""
    new: str | None
    """The staged content (a path), None to delete the target."""
    old: str | None
    """A hard link to (or copy of) the target as it was, None when it did not exist."""
    ident: tuple[int, int, int, int] | None
    """(device, inode, size, mtime_ns) of the target before the change, None when it did not exist."""


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_synced(path: Path, payload: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb", closefd=False) as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def _save_journal(txn: Path, what: str, entries: list[_Entry], direction: str) -> None:
    document = {
        "version": 1,
        "what": what,
        "pid": os.getpid(),
        "direction": direction,
        "entries": [dataclasses.asdict(e) for e in entries],
    }
    tmp = txn / (_JOURNAL + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    _write_synced(tmp, json.dumps(document, indent=1).encode("utf-8"), 0o600)
    os.rename(tmp, txn / _JOURNAL)
    _fsync_dir(txn)


def _load_journal(txn: Path) -> tuple[dict[str, Any], list[_Entry]] | None:
    try:
        document = json.loads((txn / _JOURNAL).read_text(encoding="utf-8"))
        entries = [
            _Entry(e["target"], e["new"], e["old"], tuple(e["ident"]) if e["ident"] else None)
            for e in document["entries"]
        ]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # half-written: the renames had not started
    return document, entries


def _forward(entry: _Entry, *, recovering: bool) -> str:
    """Put one entry in place: ``done``, ``already`` (done before), or ``conflict`` (changed since)."""
    target = Path(entry.target)
    if entry.new is not None:
        staged = Path(entry.new)
        if not staged.exists():
            return "already"
        if recovering and _identity(target) != entry.ident:
            return "conflict"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
        return "done"
    if _identity(target) is None:
        return "already"
    if recovering and _identity(target) != entry.ident:
        return "conflict"
    target.unlink()
    return "done"


def _backward(entry: _Entry) -> None:
    """Undo one entry (whether or not it was applied)."""
    target = Path(entry.target)
    if entry.old is not None and Path(entry.old).exists():
        try:
            os.replace(entry.old, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            shutil.copy2(entry.old, target, follow_symlinks=False)
    elif entry.ident is None and entry.new is not None and not Path(entry.new).exists():
        target.unlink(missing_ok=True)  # we created it: remove it again


def recover(state: Path) -> list[str]:
    """Finish (or, when it had failed and was being undone, undo) every change a killed run left;
    the files touched. Call with the lock held (:func:`locked` does)."""
    touched: list[str] = []
    for txn in sorted(state.glob("txn-*")):
        touched.extend(_recover_one(txn))
    return touched


def _recover_one(txn: Path) -> list[str]:
    loaded = _load_journal(txn)
    if loaded is None:
        # Killed while staging: nothing in the repository had changed yet.
        shutil.rmtree(txn, ignore_errors=True)
        return []
    document, entries = loaded
    touched: list[str] = []
    conflicts: list[str] = []
    if document.get("direction") == "backward":
        for entry in reversed(entries):
            _backward(entry)
            touched.append(entry.target)
        verb = "undid"
    else:
        for entry in entries:
            outcome = _forward(entry, recovering=True)
            (conflicts if outcome == "conflict" else touched).append(entry.target)
        verb = "finished"
    shutil.rmtree(txn, ignore_errors=True)
    _LOG.warning(
        "homeops: %s the interrupted 'homeops %s' (pid %s) of %d file(s) before going on",
        verb,
        document.get("what", "write"),
        document.get("pid", "?"),
        len(entries),
    )
    for path in conflicts:
        _LOG.warning("homeops: %s changed after the interruption: kept as it is now", path)
    return touched


# -- the transaction ----------------------------------------------------------------------------


class Transaction:
    """Stage many file writes and deletions in one repository; commit them together or not at all.

    Use as a context manager: leaving the block without an exception commits, an exception rolls
    back. The repository's lock is held from entering the block to its end.
    """

    def __init__(self, root: str | Path, what: str = "write") -> None:
        self.root = Path(os.path.realpath(root))
        self.what = what
        self._state = state_dir(self.root)
        self._entries: dict[Path, _Entry] = {}
        self._made: list[Path] = []
        """Staged files outside the state folder (another file system), removed on rollback."""
        self._seq = 0
        self._done = False
        self._folder: Path | None = None
        self._stack = contextlib.ExitStack()
        self._locked = False

    @property
    def paths(self) -> list[Path]:
        """The real paths this transaction writes or deletes."""
        return list(self._entries)

    def _lock(self) -> None:
        """Take the lock before the first staged file: the state folder is shared."""
        if not self._locked:
            self._stack.enter_context(locked(self.root, self.what))
            self._locked = True

    def _txn(self) -> Path:
        if self._folder is None:
            self._lock()
            _txn_counter[0] += 1
            self._folder = self._state / f"txn-{os.getpid()}-{_txn_counter[0]}"
            self._folder.mkdir(mode=0o700, parents=True)
        return self._folder

    def write(self, path: str | Path, data: bytes | str, *, mode: int | None = None) -> Path:
        """Stage ``data`` for ``path`` (relative to the root, or absolute); the real target."""
        self._lock()
        target = confine(self.root, path)
        payload = data.encode("utf-8") if isinstance(data, str) else data
        if mode is None:
            try:
                mode = os.stat(target).st_mode & 0o7777
            except FileNotFoundError:
                mode = 0o644
            except OSError as exc:
                raise _write_error(target, exc) from exc
        staged = self._staging_path(target)
        try:
            _write_synced(staged, payload, mode)
        except OSError as exc:
            with contextlib.suppress(OSError):
                staged.unlink()
            raise _write_error(target, exc) from exc
        self._forget(target)
        self._entries[target] = _Entry(str(target), str(staged), None, None)
        pause_point("stage")
        return target

    def delete(self, path: str | Path) -> None:
        self._lock()
        target = confine(self.root, path)
        self._forget(target)
        self._entries[target] = _Entry(str(target), None, None, None)

    def _forget(self, target: Path) -> None:
        earlier = self._entries.pop(target, None)
        if earlier is not None and earlier.new is not None:
            with contextlib.suppress(OSError):
                Path(earlier.new).unlink()

    def _staging_path(self, target: Path) -> Path:
        self._seq += 1
        txn = self._txn()
        folder = target.parent
        while not folder.exists():
            folder = folder.parent
        if os.stat(folder).st_dev == os.stat(txn).st_dev:
            return txn / f"new-{self._seq}"
        # Another file system (a rename cannot cross it): stage beside the target, in the journal.
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.parent / f".{target.name}.{os.getpid()}-{self._seq}.homeops-tmp"
        self._made.append(staged)
        return staged

    def commit(self) -> None:
        """Put every staged file in place. On a failure half-way, the files already replaced are
        put back and :class:`WriteError` is raised."""
        if self._done:
            return
        self._done = True
        try:
            self._lock()
            if self._entries:
                self._apply(self._txn())
        finally:
            self._cleanup()
            self._stack.close()

    def _apply(self, txn: Path) -> None:
        entries = [self._with_backup(txn, i, e) for i, e in enumerate(self._entries.values())]
        made_dirs = _missing_dirs(self.root, [Path(e.target) for e in entries])
        _save_journal(txn, self.what, entries, "forward")
        pause_point("commit")
        current = entries[0]
        try:
            with held_signals():
                for current in entries:
                    _forward(current, recovering=False)
                    pause_point("rename")
        except OSError as exc:
            with contextlib.suppress(OSError):
                _save_journal(txn, self.what, entries, "backward")
            for entry in reversed(entries):
                with contextlib.suppress(OSError):
                    _backward(entry)
                pause_point("undo")
            for folder in made_dirs:
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise _write_error(Path(current.target), exc) from exc
        (txn / _JOURNAL).unlink()

    def _with_backup(self, txn: Path, index: int, entry: _Entry) -> _Entry:
        target = Path(entry.target)
        ident = _identity(target)
        if ident is None:
            return entry
        if target.is_dir():
            raise WriteError(f"cannot write {target}: it is a folder; nothing was changed")
        old = txn / f"old-{index}"
        try:
            os.link(target, old, follow_symlinks=False)
        except OSError:
            try:
                shutil.copy2(target, old, follow_symlinks=False)  # inside the state folder all the same
            except OSError as exc:
                raise _write_error(target, exc) from exc
        return dataclasses.replace(entry, old=str(old), ident=ident)

    def rollback(self) -> None:
        self._done = True
        try:
            self._cleanup()
        finally:
            self._stack.close()

    def _cleanup(self) -> None:
        for staged in self._made:
            with contextlib.suppress(OSError):
                staged.unlink()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
        self._entries.clear()

    def __enter__(self) -> Transaction:
        self._lock()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None and not self._done:
                self.commit()
            elif not self._done:
                self.rollback()
        finally:
            self._stack.close()


def write_file(
    root: str | Path, path: str | Path, data: bytes | str, *, what: str, mode: int | None = None
) -> Path:
    """Write one file of the repository at ``root`` (confined, staged, locked); its real path."""
    with Transaction(root, what) as txn:
        return txn.write(path, data, mode=mode)


def _missing_dirs(root: Path, targets: list[Path]) -> list[Path]:
    """Folders the commit will create, deepest first (removed again if it fails)."""
    missing: set[Path] = set()
    for target in targets:
        parent = target.parent
        while parent != root and not parent.exists():
            missing.add(parent)
            parent = parent.parent
    return sorted(missing, key=lambda p: len(p.parts), reverse=True)


def _write_error(target: Path | None, exc: OSError) -> WriteError:
    return WriteError(f"cannot write {target or 'files'}: {exc.strerror or exc}; nothing was changed")


# -- the crash tests' hook ----------------------------------------------------------------------

_reached: dict[str, int] = {}


def pause_point(name: str) -> None:
    """Stop here for good when ``$HOMEOPS_PAUSE_AT`` names this point (``commit``, ``rename:3``…).

    The crash tests run a real homeops with it, wait for the line it prints, and kill the process.
    """
    wanted = os.environ.get(PAUSE_ENV)
    if not wanted:
        return
    point, _, count = wanted.partition(":")
    if point != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if count and str(_reached[name]) != count:
        return
    os.write(2, f"homeops: paused at {name}\n".encode())
    while True:
        time.sleep(60)
