"""Safe file writes: atomic replace, all-or-nothing batches, private temporary space.

A write either lands completely or leaves the file as it was: content goes to a temporary file in the
same directory, is flushed and fsynced, then renamed over the target. :class:`Transaction` extends
that to many files: every new content is staged first, and only when all are staged are they renamed
into place; any failure before that removes the staged files and the repository is unchanged.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from .errors import WriteError


def atomic_write(path: str | Path, data: bytes | str, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` atomically, keeping the old file's permissions unless ``mode``."""
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    staged = _stage(target, payload, mode)
    try:
        os.replace(staged, target)
    except OSError as exc:
        _unlink_quietly(staged)
        raise WriteError(f"cannot write {target}: {exc.strerror or exc}") from exc


def _stage(target: Path, payload: bytes, mode: int | None) -> Path:
    directory = target.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".homeops-tmp", dir=directory)
    except OSError as exc:
        raise WriteError(f"cannot write {target}: {exc.strerror or exc}") from exc
    staged = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
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


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


class Transaction:
    """Stage many file writes and deletions; commit them together or not at all.

    Use as a context manager: leaving the block without an exception commits, an exception rolls
    back. Commit renames every staged file into place; should a rename fail half-way, the files
    already replaced are restored from backups taken just before.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []
        self._deletes: list[Path] = []
        self._done = False

    def write(self, path: str | Path, data: bytes | str, *, mode: int | None = None) -> None:
        target = Path(path)
        payload = data.encode("utf-8") if isinstance(data, str) else data
        self._staged.append((_stage(target, payload, mode), target))

    def delete(self, path: str | Path) -> None:
        self._deletes.append(Path(path))

    @property
    def paths(self) -> list[Path]:
        return [target for _, target in self._staged] + list(self._deletes)

    def commit(self) -> None:
        backups: list[tuple[Path, Path | None]] = []
        saved: Path | None
        backup_dir = Path(tempfile.mkdtemp(prefix="homeops-backup-"))
        try:
            for i, target in enumerate([t for _, t in self._staged] + self._deletes):
                if target.exists():
                    saved = backup_dir / str(i)
                    shutil.copy2(target, saved)
                    backups.append((target, saved))
                else:
                    backups.append((target, None))
            for staged, target in self._staged:
                os.replace(staged, target)
            for target in self._deletes:
                if target.exists():
                    target.unlink()
        except OSError as exc:
            for target, saved in backups:
                with contextlib.suppress(OSError):
                    if saved is None:
                        target.unlink(missing_ok=True)
                    else:
                        shutil.copy2(saved, target)
            self.rollback()
            raise WriteError(f"cannot write {exc.filename or 'files'}: {exc.strerror or exc}") from exc
        finally:
            shutil.rmtree(backup_dir, ignore_errors=True)
        self._staged.clear()
        self._done = True

    def rollback(self) -> None:
        for staged, _ in self._staged:
            _unlink_quietly(staged)
        self._staged.clear()
        self._deletes.clear()
        self._done = True

    def __enter__(self) -> Transaction:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None and not self._done:
            self.commit()
        elif not self._done:
            self.rollback()


@contextlib.contextmanager
def private_tempdir(prefix: str = "homeops-") -> Iterator[Path]:
    """A temporary directory only the current user can read, removed on exit whatever happens.

    Prefers a RAM-backed location (``/dev/shm``) so decrypted material never reaches a disk.
    """
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    os.chmod(path, 0o700)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
