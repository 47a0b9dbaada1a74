"""On-disk cache of parsed YAML files, one file per repository, under ``HOMEOPS_CACHE_DIR``.

Entries are keyed by repo-relative path and validated by size and modification time; the cache is
written atomically and only when something changed. A corrupt or foreign cache is ignored.
"""

from __future__ import annotations

import marshal
import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: this runs at start-up
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from .yamlio import ParsedFile

_FORMAT = 4  # 4: documents as go-yaml v3 and kustomize read them (load.yamlio)


def cache_root() -> str:
    """Where homeops keeps caches: ``$HOMEOPS_CACHE_DIR`` or the user's cache folder."""
    explicit = os.environ.get("HOMEOPS_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "homeops")


def cache_dir() -> Path:
    """:func:`cache_root` as a path."""
    from pathlib import Path

    return Path(cache_root())


class ParseCache:
    """Parsed documents of one repository's files."""

    def __init__(self, repo_root: str | Path, directory: str | Path | None = None) -> None:
        from ..digest import sha256

        digest = sha256(str(repo_root).encode()).hexdigest()[:16]
        self._file = os.path.join(directory or cache_root(), "parse", f"{digest}.marshal")
        self._entries: dict[str, tuple[Any, ...]] = {}
        self._dirty = False
        try:
            with open(self._file, "rb") as handle:
                stored = marshal.load(handle)
            if isinstance(stored, dict) and stored.get("format") == _FORMAT:
                self._entries = stored["entries"]
        except (OSError, EOFError, ValueError, TypeError, KeyError):
            self._entries = {}

    @property
    def path(self) -> Path:
        """The cache file."""
        from pathlib import Path

        return Path(self._file)

    def has(self, rel: str, size: int, mtime_ns: int) -> bool:
        """Whether a file of this size and modification time is cached (without loading it)."""
        entry = self._entries.get(rel)
        return entry is not None and entry[0] == size and entry[1] == mtime_ns

    def get(self, rel: str, size: int, mtime_ns: int) -> ParsedFile | None:
        entry = self._entries.get(rel)
        if entry is None or entry[0] != size or entry[1] != mtime_ns:
            return None
        from .yamlio import ParsedFile, ParseFailure

        failure = ParseFailure(*entry[4]) if entry[4] is not None else None
        return ParsedFile(entry[2], entry[3], failure)

    def put(self, rel: str, size: int, mtime_ns: int, parsed: ParsedFile) -> None:
        if ".sops." in rel.rpartition("/")[2]:
            return  # a SOPS file may be plaintext for a while (before encrypt, after decrypt): never kept
        failure = (parsed.failure.line, parsed.failure.reason) if parsed.failure else None
        self._entries[rel] = (size, mtime_ns, parsed.documents, parsed.lines, failure)
        self._dirty = True

    def save(self) -> None:
        if not self._dirty:
            return
        from ..errors import WriteError
        from ..fsutil import atomic_write

        try:
            payload = marshal.dumps({"format": _FORMAT, "entries": self._entries})
        except ValueError:  # something marshal cannot hold (rare): leave those files out, parse them again
            from ..parallel import marshallable

            self._entries = {rel: entry for rel, entry in self._entries.items() if marshallable(entry)}
            payload = marshal.dumps({"format": _FORMAT, "entries": self._entries})
        try:
            atomic_write(self._file, payload, mode=0o600, durable=False)
        except WriteError:
            pass  # a cache that cannot be written is only a slower next run
        self._dirty = False
