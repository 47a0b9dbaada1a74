"""A repository's files as a writer sees them: what is on disk plus what this run changes.

Writers read through :class:`FileSet` (so a second app added in the same run sees the first one's
edits) and record new and changed files in it; :meth:`FileSet.commit` writes them all together as one
:class:`homeops.journal.Transaction` (confined to the repository, finished by the next run if killed).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import LoadError, Where
from ..journal import Transaction


class FileSet:
    """Pending file contents over a folder, keyed by repo-relative POSIX path."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._pending: dict[str, str] = {}
        self._created: set[str] = set()

    def exists(self, rel: str) -> bool:
        return rel in self._pending or (self.root / rel).exists()

    def is_dir(self, rel: str) -> bool:
        prefix = rel.rstrip("/") + "/"
        return (self.root / rel).is_dir() or any(p.startswith(prefix) for p in self._pending)

    def read(self, rel: str) -> str | None:
        """The text of a file (pending content first), None when it does not exist."""
        if rel in self._pending:
            return self._pending[rel]
        path = self.root / rel
        if not path.is_file():
            return None
        try:
            return path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LoadError(f"not valid UTF-8 (offset {exc.start})", where=Where(rel)) from None

    def write(self, rel: str, text: str) -> None:
        if not self.exists(rel):
            self._created.add(rel)
        self._pending[rel] = text

    @property
    def created(self) -> list[str]:
        return sorted(self._created)

    @property
    def changed(self) -> list[str]:
        """Existing files this run edits."""
        return sorted(set(self._pending) - self._created)

    def pending(self) -> dict[str, str]:
        return dict(self._pending)

    def original(self, rel: str) -> str | None:
        """The content on disk before this run."""
        path = self.root / rel
        return path.read_text(encoding="utf-8") if rel not in self._created and path.is_file() else None

    def commit(self, what: str = "write") -> list[str]:
        """Write every pending file at once; the repo-relative paths written.

        On failure (or an interrupt) no file is written, and folders made for the new files are
        removed again; a target that leads out of the repository through a symlink is refused.
        """
        with Transaction(self.root, what) as txn:
            for rel, text in sorted(self._pending.items()):
                txn.write(rel, text)
        return sorted(self._pending)
