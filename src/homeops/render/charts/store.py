"""The on-disk chart cache: content-addressed blobs plus small reference records pointing at them.

Layout under the root (``$HOMEOPS_CACHE_DIR/charts``)::

    blobs/sha256/<hex>.tgz      chart archives, named by the sha256 of their bytes
    refs/<kind>/<key-hash>.json one record per resolved source key: what it names, which blob, when
    schemas/                    the same layout for the JSON documents charts' schemas refer to
                                (``blobs/sha256/<hex>.json``)

A record for an immutable key (an OCI digest, an exact Helm-repository version, a Git commit) is used
forever; one for a mutable key (an OCI tag, a tag list, a Git branch, a repository index) only within
the cache's time-to-live, except offline, where the last known answer is the only answer. Every write
is atomic, so concurrent renders (threads or processes) never see a half-written file; a blob whose
bytes no longer match its name is treated as absent.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...errors import WriteError
from ...fsutil import atomic_write
from .errors import ChartSourceError


class ChartStore:
    def __init__(self, root: Path, *, suffix: str = ".tgz") -> None:
        self.root = root
        self.suffix = suffix
        """What the blobs are: ``.tgz`` chart archives, ``.json`` schema documents."""

    # --- blobs ---------------------------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        algorithm, _, hexdigest = digest.partition(":")
        return self.root / "blobs" / algorithm / f"{hexdigest}{self.suffix}"

    def has_blob(self, digest: str) -> bool:
        """True when the blob is present and its bytes still hash to ``digest``."""
        return self.read_blob(digest) is not None

    def read_blob(self, digest: str) -> bytes | None:
        """The blob's bytes, verified against ``digest``; None when absent or corrupted."""
        path = self.blob_path(digest)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if "sha256:" + hashlib.sha256(data).hexdigest() == digest:
            return data
        path.unlink(missing_ok=True)  # corrupted: fetch again
        return None

    def put_blob(self, data: bytes) -> str:
        """Store ``data``; returns its ``sha256:`` digest."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        path = self.blob_path(digest)
        if not path.is_file():
            self._write(path, data)
        return digest

    # --- reference records ---------------------------------------------------------------------

    def _ref_path(self, kind: str, key: tuple[str, ...]) -> Path:
        name = hashlib.sha256(json.dumps([kind, *key]).encode()).hexdigest()[:40]
        return self.root / "refs" / kind / f"{name}.json"

    def get(self, kind: str, key: tuple[str, ...], *, max_age: float | None = None) -> dict[str, Any] | None:
        """The record for ``key``; None when absent, unreadable, or older than ``max_age`` seconds."""
        try:
            record = json.loads(self._ref_path(kind, key).read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("key") != [kind, *key]:
            return None
        if max_age is not None and time.time() - float(record.get("time", 0)) > max_age:
            return None
        return record

    def put(self, kind: str, key: tuple[str, ...], record: dict[str, Any]) -> dict[str, Any]:
        stored = {**record, "key": [kind, *key], "time": time.time()}
        self._write(self._ref_path(kind, key), json.dumps(stored, sort_keys=True).encode())
        return stored

    def records(self, kind: str) -> Iterator[dict[str, Any]]:
        """Every readable record of one kind (for offline fallbacks)."""
        folder = self.root / "refs" / kind
        try:
            paths = sorted(folder.iterdir())
        except OSError:
            return
        for path in paths:
            try:
                record = json.loads(path.read_bytes())
            except (OSError, ValueError):
                continue
            if isinstance(record, dict) and isinstance(record.get("key"), list):
                yield record

    def _write(self, path: Path, data: bytes) -> None:
        try:
            atomic_write(path, data, mode=0o644)
        except WriteError as exc:
            raise ChartSourceError(
                f"cannot write the chart cache: {exc.message}",
                source=str(self.root),
                hint="make HOMEOPS_CACHE_DIR point at a writable folder",
            ) from exc
