"""The cache of whole ``check`` results, for a repository nothing has changed in since the last run.

The key covers every file of the repository (path, size, modification time), the configuration, the
rules asked for and homeops' own code; any change computes everything again. Stored as JSON under
``$HOMEOPS_CACHE_DIR/results/``, written atomically, ignored when unreadable.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..load.cache import cache_dir
from ..load.tree import SourceTree
from .base import Finding, Severity

_FORMAT = 1


@dataclass(frozen=True, slots=True)
class CachedCheck:
    findings: list[Finding]
    stats: dict[str, int]
    """What was checked (files, clusters, Kustomizations, HelmReleases), for the summary line."""


def _code_fingerprint() -> str:
    package = Path(__file__).resolve().parent.parent
    newest = 0
    for folder, _dirs, files in os.walk(package):
        for name in files:
            if name.endswith(".py"):
                newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime_ns)
    return f"{__version__}:{newest}"


def result_key(tree: SourceTree, select: Iterable[str] | None) -> str:
    digest = hashlib.sha256()
    digest.update(f"{_FORMAT}\n{_code_fingerprint()}\n{tree.root!s}\n".encode())
    digest.update(",".join(sorted(select or ())).encode() + b"\n")
    digest.update(tree.fingerprint().encode())
    return digest.hexdigest()


def _path(key: str) -> Path:
    return cache_dir() / "results" / f"{key}.json"


def load(key: str) -> CachedCheck | None:
    try:
        data = json.loads(_path(key).read_text(encoding="utf-8"))
        findings = [
            Finding(
                f["rule"], f["name"], Severity(f["severity"]), f["path"], f["line"], f["message"], f["hint"]
            )
            for f in data["findings"]
        ]
        return CachedCheck(findings, {k: int(v) for k, v in data["stats"].items()})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(key: str, findings: list[Finding], stats: dict[str, int]) -> None:
    from ..errors import WriteError
    from ..fsutil import atomic_write

    payload: dict[str, Any] = {
        "findings": [
            {
                "rule": f.rule,
                "name": f.name,
                "severity": f.severity.value,
                "path": f.path,
                "line": f.line,
                "message": f.message,
                "hint": f.hint,
            }
            for f in findings
        ],
        "stats": stats,
    }
    try:
        atomic_write(_path(key), json.dumps(payload), mode=0o600)
    except WriteError:
        pass  # no cache: only a slower next run
