"""Safe file writes outside a repository (caches, key files) and private temporary space.

A write either lands completely or leaves the file as it was: content goes to a temporary file in the
same directory, is flushed and fsynced, then renamed over the target. Writes *into a repository* go
through :mod:`homeops.journal` instead (confined to the repository, locked, recoverable after a crash).

A private folder is RAM-backed when possible and removed on every exit path a process can see:
normal return, exceptions, Ctrl-C, SIGTERM, SIGHUP and the other terminating signals. A process
killed outright (SIGKILL) cannot clean up: each folder is held with ``flock`` for its owner's
lifetime (:func:`held_tempdir`), and the next homeops run removes folders whose owner is gone
(:func:`abandoned_dirs`). Its name carries the owner's process id (``homeops-<pid>-…``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import WriteError

PRIVATE_SUFFIX = ".homeops-private"
"""Ends the name of every private folder (only those are ever swept)."""
_STALE_AFTER = 10.0
"""Seconds a folder must have existed unlocked before a sweep takes it for abandoned."""


def atomic_write(
    path: str | Path, data: bytes | str, *, mode: int | None = None, durable: bool = True
) -> None:
    """Replace ``path`` with ``data`` atomically, keeping the old file's permissions unless ``mode``.

    ``durable=False`` skips the fsync, for caches: after a crash their file may be empty or torn,
    which their readers take for a miss; a cold ``check`` writes two and saves the wait for the disk.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    staged = _stage(target, payload, mode, durable)
    try:
        os.replace(staged, target)
    except OSError as exc:
        _unlink_quietly(staged)
        raise WriteError(f"cannot write {target}: {exc.strerror or exc}") from exc


def _stage(target: Path, payload: bytes, mode: int | None, durable: bool = True) -> Path:
    directory = target.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_beside(target)
    except OSError as exc:
        raise WriteError(f"cannot write {target}: {exc.strerror or exc}") from exc
    staged = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(staged, mode)
        elif target.exists():
            os.chmod(staged, stat.S_IMODE(target.stat().st_mode))
        else:
            os.chmod(staged, 0o644)
    except OSError as exc:
        _unlink_quietly(staged)
        raise WriteError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return staged


def _create_beside(target: Path) -> tuple[int, str]:
    """A new file with a random name beside ``target``, open for writing, mode 0600: what
    ``tempfile.mkstemp`` makes, without importing ``tempfile`` (with ``shutil`` and ``random``: a
    tenth of what a small repository's cold check imports)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        name = os.path.join(target.parent, f".{target.name}.{os.urandom(6).hex()}.homeops-tmp")
        try:
            return os.open(name, flags, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary name", str(target.parent))


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


@contextlib.contextmanager
def private_tempdir(prefix: str = "homeops-") -> Iterator[Path]:
    """A temporary directory only the current user can read, removed on exit whatever happens.

    Prefers a RAM-backed location (``/dev/shm``) so decrypted material never reaches a disk.
    """
    import shutil  # here, not at import: a check only writes its caches (atomic_write)

    from .interrupts import catch_signals

    with catch_signals():
        base = ram_backed_base()
        sweep_once()
        with held_tempdir(prefix=f"{prefix}{os.getpid()}-", suffix=PRIVATE_SUFFIX, dir=base) as path:
            try:
                os.chmod(path, 0o700)
                yield path
            finally:
                shutil.rmtree(path, ignore_errors=True)  # while still held: no sweep can take it


@contextlib.contextmanager
def held_tempdir(*, prefix: str, suffix: str, dir: str | Path | None) -> Iterator[Path]:
    """A new folder (``mkdtemp``, mode 0700) held with ``flock`` while the block runs, so that a
    later sweep (:func:`abandoned_dirs`) can tell it was abandoned if this process is killed; the
    caller removes it, or keeps it (renamed into place)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=dir))
    try:
        holder = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        import shutil

        shutil.rmtree(path, ignore_errors=True)
        raise
    try:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield path
    finally:
        os.close(holder)


def process_tempdir(prefix: str = "homeops-") -> Path:
    """A private folder (RAM-backed when possible) that lasts until this process exits, when it is
    removed; held with ``flock`` like :func:`private_tempdir`, so a sweep after SIGKILL removes it and
    no other homeops process takes it for abandoned meanwhile. For what a cache would hold when the
    cache cannot be written (a full disk)."""
    import atexit

    base = ram_backed_base()
    sweep_once()
    import tempfile

    path = Path(tempfile.mkdtemp(prefix=prefix, suffix=PRIVATE_SUFFIX, dir=base))
    try:
        os.chmod(path, 0o700)
        holder = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        import shutil

        shutil.rmtree(path, ignore_errors=True)
        raise

    if not _process_dirs:
        atexit.register(remove_process_dirs)
    _process_dirs.append((os.getpid(), path, holder))
    return path


_process_dirs: list[tuple[int, Path, int]] = []
"""(creator pid, folder, held descriptor) of every :func:`process_tempdir`."""


def remove_process_dirs() -> None:
    """Remove this process's :func:`process_tempdir` folders now (at exit; also before ``os._exit``,
    which skips ``atexit``). A forked child never removes its parent's."""
    mine = [entry for entry in _process_dirs if entry[0] == os.getpid()]
    if not mine:
        return  # the usual case: spares importing shutil (with bz2 and lzma) at every exit
    import shutil

    for entry in mine:
        _process_dirs.remove(entry)
        shutil.rmtree(entry[1], ignore_errors=True)
        with contextlib.suppress(OSError):
            os.close(entry[2])


def ram_backed_base() -> str | None:
    """``/dev/shm`` when it is usable, else None (the system temporary folder)."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


_swept: list[bool] = []


def sweep_once() -> None:
    """Sweep abandoned private folders (see :func:`sweep_abandoned`), once per process."""
    if not _swept:
        _swept.append(True)
        for base in {ram_backed_base(), None}:
            sweep_abandoned(base)


def sweep_abandoned(base: str | None = None) -> list[str]:
    """Remove private folders of this user whose owning process is gone (killed by SIGKILL); their
    paths."""
    import shutil

    removed = abandoned_private_dirs(base)
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def abandoned_private_dirs(base: str | None = None, *, min_age: float = _STALE_AFTER) -> list[str]:
    """Private folders of this user under ``base`` (default: the system temporary folder) that
    nobody holds any more, and that are at least ``min_age`` seconds old."""
    import tempfile

    folder = base if base is not None else tempfile.gettempdir()
    return abandoned_dirs(
        folder, lambda name: name.startswith("homeops-") and name.endswith(PRIVATE_SUFFIX), min_age=min_age
    )


def abandoned_dirs(
    folder: str | Path, matches: Callable[[str], bool], *, min_age: float = _STALE_AFTER
) -> list[str]:
    """Folders of this user in ``folder`` whose name ``matches``, made by :func:`held_tempdir`, that
    nobody holds any more (their owner was killed) and that are at least ``min_age`` seconds old."""
    found: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    now = time.time()
    for entry in entries:
        if not matches(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or now - st.st_mtime < min_age:
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # its owner is alive
        else:
            found.append(entry.path)
        finally:
            os.close(fd)
    return found
