"""Remote kustomize bases (``github.com/org/repo//path?ref=v1.2.0``), fetched once into a cache.

kustomize clones a remote base on every build; homeops fetches it once with real ``git`` into a
content-addressed cache under ``$HOMEOPS_CACHE_DIR/kustomize`` and builds from there afterwards:

    refs/<hash of url and ref>.json   what the ref named when it was resolved: commit, tag or branch
    trees/<hash of url and commit>/   the files of that commit (written once, renamed into place)

A ref is *pinned* when it names a commit or a tag: its record is used forever. A branch (or no ref:
the default branch) moves, so its record is used for an hour, and offline for as long as it is there;
such a base is itself worth a warning (see :func:`pinned`). ``offline=True`` (``--offline``) never
touches the network. A failure is remembered for ten minutes, so that an unreachable host costs
one attempt, not one per build or per run. Whatever cannot be fetched raises
:class:`~homeops.kustomize.loader.RemoteUnavailable` with git's own words: an offline limit, not a
fault of the repository.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from ..errors import HomeopsError, Where
from ..records import NamedTuple
from .loader import OutsideSource, RemoteUnavailable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..load.tree import SourceTree

_MUTABLE_TTL = 3600.0
"""Seconds a branch's resolution is trusted."""
_FAILURE_TTL = 600.0
"""Seconds a failed fetch is remembered (not retried)."""
_TIMEOUT = 60.0
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_VERSION = re.compile(r"v?\d+(\.\d+)*([-+][0-9A-Za-z.-]+)?")
_HOSTS = ("github.com/", "gitlab.com/", "bitbucket.org/")


class RemoteSpec(NamedTuple):
    """A remote base as kustomize's repo spec reads it."""

    url: str
    """What ``git`` clones."""
    path: str
    """The folder inside the repository ('' for its root)."""
    ref: str
    """``?ref=`` (or ``?version=``); '' for the default branch."""
    entry: str
    """The entry as written."""


def local_reason(url: str, *, offline: bool = False) -> str | None:
    """Why ``url`` is on this machine or its local network (None when it is public, or allowed): the
    one rule of every fetch a repository can ask for (``localnet.local_reason``).
    ``offline``: no name is looked up (only the cache will be read, filled under this same check)."""
    from ..localnet import local_reason as reason

    return reason(url, offline=offline)


def refuse_local(entry: str, spec: RemoteSpec | None, where: Where, *, offline: bool) -> None:
    """Raise :class:`~homeops.kustomize.loader.OutsideSource` when remote ``entry`` (``spec``: its
    repository, None for a web file) is on this machine or its local network."""
    local = local_reason(spec.url if spec is not None else entry, offline=offline)
    if local is not None:
        raise OutsideSource(
            f"remote {'base' if spec is not None else 'file'} {entry!r} is {local}; homeops does not read it",
            where=where,
            hint="refer to it by a public URL (set HOMEOPS_ALLOW_LOCAL_REMOTES=1 to allow local mirrors)",
        )


def parse(entry: str) -> RemoteSpec | None:
    """The repository, folder and ref of a remote base; None when ``entry`` is not a Git repository
    (a plain ``https://`` file, which kustomize downloads over HTTP)."""
    text, _, query = entry.partition("?")
    params = parse_qs(query)
    ref = (params.get("ref") or params.get("version") or [""])[0]
    if text.startswith("git::"):
        text = text[len("git::") :]
    web = text.startswith(("https://", "http://"))  # kustomize downloads these first
    if text.startswith(_HOSTS):
        text = "https://" + text
    if text.startswith("git@") and ":" in text:
        host, _, rest = text.partition(":")
        prefix, rest = host + ":", rest
    elif "://" in text:
        scheme, _, rest = text.partition("://")
        if scheme not in ("https", "http", "ssh", "file", "git"):
            return None
        if scheme == "file":
            prefix, rest = "file://", rest
        else:
            host, _, rest = rest.partition("/")
            prefix = f"{scheme}://{host}/"
    else:
        return None
    if web and prefix.endswith(_HOSTS) and "//" not in rest and _web_file_route(rest.split("/")[2:]):
        return None
    repo, path = _split(prefix, rest)
    if repo is None:
        return None
    return RemoteSpec(prefix + repo, path.strip("/"), ref, entry)


def _split(prefix: str, rest: str) -> tuple[str | None, str]:
    if "//" in rest:
        repo, _, path = rest.partition("//")
        return repo, path
    if ".git/" in rest or rest.endswith(".git"):
        repo, _, path = rest.partition(".git")
        return repo + ".git", path
    if prefix.endswith(("github.com/", "gitlab.com/", "bitbucket.org/")):
        parts = rest.split("/")
        if len(parts) < 2:
            return None, ""
        return "/".join(parts[:2]), "/".join(parts[2:])
    if prefix == "file://":
        return rest, ""
    if rest.endswith((".yaml", ".yml", ".json")):
        return None, ""  # a file on a web server
    return rest, ""


def _web_file_route(after_repo: list[str]) -> bool:
    """Whether the path after ``<owner>/<repo>/`` is a route the forge serves a file on (a release
    asset, a raw file). kustomize tries every ``http(s)://`` resource as a web file first and clones it
    only when the server answers with an error (``httpClientGetContent``: "URL is a git repository"):
    these routes answer with the file."""
    route = after_repo[1:] if after_repo[:1] == ["-"] else after_repo  # GitLab's /-/raw/...
    return len(route) >= 3 and route[0] in ("releases", "raw")


_BRANCHES = frozenset(("main", "master", "develop", "development", "trunk", "HEAD", "dev", "next"))


def pinned(spec: RemoteSpec) -> bool | None:
    """True for a commit or a tag, False for a branch or no ref; None when unknown (a ref that is
    neither a commit nor shaped like a version nor a usual branch name, not resolved yet)."""
    if not spec.ref:
        return False
    if _SHA.fullmatch(spec.ref):
        return True
    record = _read_json(_ref_file(spec))
    if record is not None and record.get("kind") in ("tag", "branch", "commit"):
        return bool(record["kind"] != "branch")
    if spec.ref in _BRANCHES:
        return False
    return True if _VERSION.fullmatch(spec.ref) else None


def entries(tree: SourceTree, path: str) -> list[tuple[RemoteSpec, int]]:
    """The remote bases a kustomization file names (``resources``, ``bases``, ``components``), with
    their lines."""
    from .kfile import line_of
    from .loader import looks_remote

    parsed = tree.parsed(path)
    data = parsed.documents[0] if parsed.failure is None and parsed.documents else None
    found: list[tuple[RemoteSpec, int]] = []
    if not isinstance(data, dict):
        return found
    for field in ("resources", "bases", "components"):
        items = data.get(field)
        for index, item in enumerate(items if isinstance(items, list) else []):
            spec = parse(item) if isinstance(item, str) and looks_remote(item) else None
            if spec is not None:
                found.append((spec, line_of(tree, path, [field, index])))
    return found


def expiry(tree: SourceTree, kustomization_files: Iterable[str], *, failed: bool, now: float) -> float | None:
    """Until when a result built with the remote bases and files these kustomization files name stays
    true: a failed fetch is tried again after ten minutes (``failed``: one failed, or homeops was
    offline), a branch or an unversioned URL is looked up again an hour after it was; None when
    nothing depends on the network (no remote, or only pinned ones)."""
    from .loader import looks_remote

    until = now + _FAILURE_TTL if failed else None
    for path in kustomization_files:
        parsed = tree.parsed(path)
        data = parsed.documents[0] if parsed.failure is None and parsed.documents else None
        if not isinstance(data, dict):
            continue
        for field in ("resources", "bases", "components"):
            items = data.get(field)
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, str) or not looks_remote(item):
                    continue
                spec = parse(item)
                if spec is not None:
                    if pinned(spec):
                        continue
                    record = _read_json(_ref_file(spec))
                elif _pinned_url(item):
                    continue
                else:
                    record = _read_json(_root() / "refs" / f"{_digest('file', item)}.json")
                at = float(record.get("at", now)) if record is not None else now
                ttl = _FAILURE_TTL if record is None or record.get("failed") else _MUTABLE_TTL
                until = min(until, at + ttl) if until is not None else at + ttl
    return until


def _pinned_url(url: str) -> bool:
    """Whether a web file's URL names a version or a commit (kept forever once fetched)."""
    return any(_VERSION.fullmatch(part) or _SHA.fullmatch(part) for part in url.split("/"))


class Checkout(NamedTuple):
    """A remote repository's files at one commit, in the cache."""

    key: str
    """Short, stable name of the tree (a hash of URL and commit)."""
    root: Path
    commit: str


def checkout(spec: RemoteSpec, where: Where | None = None, *, offline: bool = False) -> Checkout:
    """The cached tree of ``spec``'s commit, fetching it when needed unless ``offline``."""
    record = _read_json(_ref_file(spec))
    now = time.time()
    if record is not None and record.get("failed"):
        if offline or now - float(record.get("at", 0)) < _FAILURE_TTL:
            raise _unavailable(spec, str(record["failed"]), where)
        record = None
    if record is not None:
        mutable = record.get("kind") == "branch"
        fresh = not mutable or now - float(record.get("at", 0)) < _MUTABLE_TTL
        tree = _tree_dir(spec.url, str(record["commit"]))
        if tree.is_dir() and (fresh or offline):
            return Checkout(tree.name[:16], tree, str(record["commit"]))
    if offline:
        raise _unavailable(spec, "it is not in homeops' cache and homeops is offline (--offline)", where)
    try:
        commit, kind = _resolve(spec)
        tree = _tree_dir(spec.url, commit)
        if not tree.is_dir():
            _fetch(spec.url, commit, tree)
    except HomeopsError as exc:
        _write_json(_ref_file(spec), {"url": spec.url, "ref": spec.ref, "failed": exc.message, "at": now})
        raise _unavailable(spec, exc.message, where) from None
    record = {"url": spec.url, "ref": spec.ref, "commit": commit, "kind": kind, "at": now}
    _write_json(_ref_file(spec), record)
    return Checkout(tree.name[:16], tree, commit)


_TREES: dict[Path, SourceTree] = {}


def tree_of(cached: Checkout) -> SourceTree:
    """The checkout as a tree the native engine reads (confined to it, as the repository is to its
    root); one per process, so its parsed files and built bases serve every build that names it (a
    checkout's files never change: its folder is named by URL and commit)."""
    found = _TREES.get(cached.root)
    if found is None:
        from ..load.tree import SourceTree

        found = _TREES[cached.root] = SourceTree(cached.root)
    return found


def fetch_file(url: str, where: Where | None = None, *, offline: bool = False) -> Path:
    """A file that kustomize downloads over HTTP (a ``resources:`` entry like
    ``https://github.com/org/repo/releases/download/v1.2.0/crds.yaml``), from the cache or fetched once.

    A URL with a version or a commit in its path is kept forever, any other for an hour (offline: for
    as long as it is there); failures are remembered like a base's.
    """
    key = _digest("file", url)
    folder = _root() / "files" / key
    target = folder / (url.rstrip("/").rpartition("/")[2].partition("?")[0] or "file.yaml")
    record_file = _root() / "refs" / f"{key}.json"
    record = _read_json(record_file)
    now = time.time()
    pinned_url = _pinned_url(url)
    if record is not None and record.get("failed"):
        if offline or now - float(record.get("at", 0)) < _FAILURE_TTL:
            raise _file_unavailable(url, str(record["failed"]), where)
        record = None
    if record is not None and target.is_file():
        if pinned_url or offline or now - float(record.get("at", 0)) < _MUTABLE_TTL:
            return target
    if offline:
        raise _file_unavailable(url, "it is not in homeops' cache and homeops is offline (--offline)", where)
    from ..render.charts import transport

    try:
        reply = transport.get(url, what="downloading a kustomize resource", max_bytes=64 * 1024 * 1024)
    except HomeopsError as exc:
        _write_json(record_file, {"url": url, "failed": exc.message, "at": now})
        raise _file_unavailable(url, exc.message, where) from None
    from ..fsutil import atomic_write

    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(target, reply.body)
    import hashlib

    _write_json(record_file, {"url": url, "sha256": hashlib.sha256(reply.body).hexdigest(), "at": now})
    return target


def _file_unavailable(url: str, why: str, where: Where | None) -> RemoteUnavailable:
    return RemoteUnavailable(
        f"remote file {url!r} could not be verified: {why}",
        where=where,
        hint="run once with network access (homeops caches the file), or vendor it into the repository",
    )


def _unavailable(spec: RemoteSpec, why: str, where: Where | None) -> RemoteUnavailable:
    return RemoteUnavailable(
        f"remote base {spec.entry!r} could not be verified: {why}",
        where=where,
        hint="run once with network access (homeops caches the base), or check the URL and ref; "
        "this is a limit of this machine, not a fault of the repository",
    )


def _resolve(spec: RemoteSpec) -> tuple[str, str]:
    """(commit, kind) of the ref: a commit as given, else ``git ls-remote``."""
    from ..render.charts import git

    if _SHA.fullmatch(spec.ref):
        return spec.ref, "commit"
    if spec.ref:
        try:
            commit, _label = git.resolve(spec.url, "tag", spec.ref, timeout=_TIMEOUT)
            return commit, "tag"
        except HomeopsError as exc:
            if "has no tag" not in exc.message:
                raise
        commit, _label = git.resolve(spec.url, "name", f"refs/heads/{spec.ref}", timeout=_TIMEOUT)
        return commit, "branch"
    commit, _label = git.resolve(spec.url, "name", "HEAD", timeout=_TIMEOUT)
    return commit, "branch"


def _fetch(url: str, commit: str, tree: Path) -> None:
    """Export ``commit`` into ``tree``: into a private folder first, then renamed into place."""
    import shutil
    import tempfile

    from ..render.charts import git

    tree.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=tree.parent))
    try:
        dest = staging / "tree"
        dest.mkdir()
        git.export(url, commit, dest, timeout=_TIMEOUT)
        try:
            os.rename(dest, tree)
        except OSError:
            if not tree.is_dir():  # another process won the race otherwise
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _root() -> Path:
    from ..load.cache import cache_root

    return Path(cache_root()) / "kustomize"


def _digest(*parts: str) -> str:
    from ..digest import sha256  # a short key: no OpenSSL start-up for it (see homeops.digest)

    return sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _ref_file(spec: RemoteSpec) -> Path:
    return _root() / "refs" / f"{_digest(spec.url, spec.ref)}.json"


def _tree_dir(url: str, commit: str) -> Path:
    return _root() / "trees" / _digest(url, commit)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    from ..errors import WriteError
    from ..fsutil import atomic_write

    try:
        atomic_write(path, json.dumps(data, sort_keys=True))
    except (WriteError, OSError):
        pass  # a cache that cannot be written only costs a fetch next time
