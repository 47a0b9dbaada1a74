"""On-disk cache of parsed YAML files, one file per repository, under ``HOMEOPS_CACHE_DIR``.

Entries are keyed by repo-relative path and validated by size and modification time; the cache is
written atomically and only when something changed. A corrupt or foreign cache is ignored.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .yamlio import ParsedFile

_FORMAT = 3


def cache_dir() -> Path:
    """Where homeops keeps caches: ``$HOMEOPS_CACHE_DIR`` or the user's cache folder."""
    explicit = os.environ.get("HOMEOPS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "homeops"


class ParseCache:
    """Parsed documents of one repository's files."""

    def __init__(self, repo_root: Path, directory: Path | None = None) -> None:
        digest = hashlib.sha256(str(repo_root).encode()).hexdigest()[:16]
        self.path = (directory or cache_dir()) / "parse" / f"{digest}.marshal"
        self._entries: dict[str, tuple[Any, ...]] = {}
        self._dirty = False
        try:
            with open(self.path, "rb") as handle:
                stored = marshal.load(handle)
            if isinstance(stored, dict) and stored.get("format") == _FORMAT:
                self._entries = stored["entries"]
        except (OSError, EOFError, ValueError, TypeError, KeyError):
            self._entries = {}

    def get(self, rel: str, size: int, mtime_ns: int) -> ParsedFile | None:
        entry = self._entries.get(rel)
        if entry is None or entry[0] != size or entry[1] != mtime_ns:
            return None
        from .yamlio import ParsedFile, ParseFailure

        failure = ParseFailure(*entry[4]) if entry[4] is not None else None
        return ParsedFile(entry[2], entry[3], failure)

    def put(self, rel: str, size: int, mtime_ns: int, parsed: ParsedFile) -> None:
        failure = (parsed.failure.line, parsed.failure.reason) if parsed.failure else None
        try:
            marshal.dumps(parsed.documents)
        except ValueError:
            return  # something marshal cannot hold; parse again next time
        self._entries[rel] = (size, mtime_ns, parsed.documents, parsed.lines, failure)
        self._dirty = True

    def save(self) -> None:
        if not self._dirty:
            return
        from ..errors import WriteError
        from ..fsutil import atomic_write

        try:
            payload = marshal.dumps({"format": _FORMAT, "entries": self._entries})
            atomic_write(self.path, payload, mode=0o600)
        except (WriteError, ValueError):
            pass  # a cache that cannot be written is only a slower next run
        self._dirty = False
