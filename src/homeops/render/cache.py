"""A content-addressed cache of rendered HelmReleases, under ``HOMEOPS_CACHE_DIR/renders``.

The key is a digest of everything the output depends on (chart digest, values, release name and
namespace, options, post-renderers, how the chart's schema references resolved, homeops' own format);
the entry is the objects and the warnings of that render, as JSON. A hit means the values were
validated then, so nothing is validated again. Releases rendered from decrypted values are never
stored. A corrupt entry is ignored and rendered again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..load.cache import cache_dir
from ..records import NamedTuple

FORMAT = 2


class CachedRender(NamedTuple):
    objects: list[dict[str, Any]]
    warnings: list[str]


def render_key(**parts: Any) -> str:
    payload = json.dumps({"format": FORMAT, **parts}, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


class RenderCache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else cache_dir() / "renders"

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> CachedRender | None:
        try:
            data = json.loads(self._path(key).read_bytes())
        except (OSError, ValueError):
            return None
        objects = data.get("objects") if isinstance(data, dict) else None
        warnings = data.get("warnings") if isinstance(data, dict) else None
        if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
            return None
        if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
            return None
        return CachedRender(objects, warnings)

    def put(self, key: str, objects: list[dict[str, Any]], warnings: list[str]) -> None:
        if not _json_exact(objects):
            return  # JSON would change it (a YAML timestamp, a numeric key): render again next time
        entry = {"objects": objects, "warnings": warnings}
        payload = json.dumps(entry, separators=(",", ":"), allow_nan=False).encode()
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # No fsync: a torn entry does not parse and is rendered again.
            fd, tmp = tempfile.mkstemp(prefix=".render.", dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written is only a slower next run


def _json_exact(value: Any) -> bool:
    """Whether ``value`` survives a JSON round trip unchanged."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_exact(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_json_exact(v) for v in value)
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    return value is None or isinstance(value, str | int | bool)
