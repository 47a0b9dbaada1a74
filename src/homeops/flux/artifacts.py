"""Flux 2.7+ ``ArtifactGenerator`` (source-watcher): the file tree of each ExternalArtifact it makes.

An ArtifactGenerator (``source.extensions.fluxcd.io/v1beta1``) names its inputs (``spec.sources``:
an alias for a GitRepository, OCIRepository, Bucket, HelmChart or ExternalArtifact) and, per output
(``spec.artifacts[]``), the copy operations that fill it (``from: "@alias/pattern"``,
``to: "@artifact/path"``, ``exclude``, ``strategy``). This module builds that tree exactly as
source-watcher's builder does, as its source reads:

* a ``from`` without glob characters (``*?[]``) is one file or folder: a folder is copied as a
  sub-folder of ``to`` (``@src/dir/`` and ``@src/`` copy the contents); a file goes to ``to`` when
  ``to`` names a file, or into it when ``to`` ends with ``/`` or is an existing folder;
* a ``from`` with glob characters is matched with Go's ``fs.Glob`` (each ``*`` or ``**`` matches one
  name, not several); a pattern ending in ``/**`` drops that prefix from every match, any other pattern
  keeps the whole matched path below ``to``; a matched folder is copied with everything in it;
* ``exclude`` patterns (doublestar) are matched against the source path of a glob match, against the
  path inside a copied folder, and, when they hold no ``/``, against the file name;
* operations run in order and a later copy replaces an earlier file (``strategy: Merge`` merges YAML
  into an existing file instead; ``Extract`` unpacks tarballs, which homeops does not do);
* the archive leaves out what source-controller's default patterns leave out.

Inputs that are not in this repository (an OCIRepository, a Bucket) leave the artifact ``partial``.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..load.ignore import FLUX_DEFAULT_IGNORES, SourceIgnore, go_match
from ..load.tree import SourceTree, normalize
from ..model.base import ObjectRef, Resource, get_path
from ..records import NamedTuple

SOURCE_EXTENSIONS_GROUP = "source.extensions.fluxcd.io"

_GLOB_CHARS = re.compile(r"[*?\[\]]")


class CopyOp(NamedTuple):
    """One ``spec.artifacts[].copy[]`` entry."""

    alias: str
    pattern: str
    """The part of ``from`` after ``@alias/`` (may be empty: the whole source)."""
    dest: str
    """The part of ``to`` after ``@artifact/``."""
    dest_is_dir: bool
    """``to`` ends with ``/``."""
    exclude: tuple[str, ...]
    strategy: str
    """Overwrite (default), Merge or Extract."""
    text: str
    """``from → to`` as written, for messages."""


class ArtifactSpec(NamedTuple):
    """One output of an ArtifactGenerator: the ExternalArtifact it makes and how."""

    generator: Resource
    index: int  # type: ignore[assignment]  # shadows tuple.index, which no caller needs here
    """Position in ``spec.artifacts``."""
    name: str
    namespace: str
    sources: dict[str, ObjectRef]
    """Alias → the source it names."""
    copies: tuple[CopyOp, ...]
    problems: tuple[str, ...]
    """Entries source-watcher rejects (a ``from`` without ``@alias/``, a ``to`` outside ``@artifact/``)."""


def is_generator(res: Resource) -> bool:
    return res.kind == "ArtifactGenerator" and res.group == SOURCE_EXTENSIONS_GROUP


def artifact_specs(res: Resource) -> list[ArtifactSpec]:
    """Every output an ArtifactGenerator declares."""
    namespace = res.namespace or "default"
    sources: dict[str, ObjectRef] = {}
    for item in get_path(res.obj, "spec", "sources") or []:
        if (
            isinstance(item, dict)
            and isinstance(item.get("alias"), str)
            and isinstance(item.get("name"), str)
        ):
            sources[item["alias"]] = ObjectRef(
                str(item.get("kind") or "GitRepository"),
                item["name"],
                str(item.get("namespace") or namespace),
            )
    out = []
    for index, artifact in enumerate(get_path(res.obj, "spec", "artifacts") or []):
        if not isinstance(artifact, dict) or not isinstance(artifact.get("name"), str):
            continue
        copies: list[CopyOp] = []
        problems: list[str] = []
        for op in artifact.get("copy") or []:
            parsed = _copy_op(op)
            if isinstance(parsed, str):
                problems.append(parsed)
            else:
                copies.append(parsed)
        out.append(
            ArtifactSpec(res, index, artifact["name"], namespace, sources, tuple(copies), tuple(problems))
        )
    return out


def _copy_op(op: Any) -> CopyOp | str:
    if not isinstance(op, dict):
        return "a copy entry is not a mapping"
    source, target = op.get("from"), op.get("to")
    if not isinstance(source, str) or not source.startswith("@") or "/" not in source:
        return f"copy from {source!r}: must be '@alias/pattern'"
    if not isinstance(target, str) or not target.startswith("@artifact/"):
        return f"copy to {target!r}: must start with '@artifact/'"
    alias, pattern = source[1:].split("/", 1)
    dest = target.removeprefix("@artifact/")
    if dest and (dest.startswith("/") or ".." in dest.split("/")):
        # source-watcher: the destination must be local to the artifact and hold no '..'
        return f"copy to {target!r}: the destination must stay inside the artifact, without '..'"
    dest = posixpath.normpath(dest) if dest else "."
    dest = "" if dest == "." else dest
    exclude = tuple(str(e) for e in op.get("exclude") or [] if isinstance(e, str))
    return CopyOp(
        alias,
        pattern,
        dest,
        target.endswith("/"),
        exclude,
        str(op.get("strategy") or "Overwrite"),
        f"{source} → {target}",
    )


# -- assembling the tree ------------------------------------------------------------------------


class Assembled(NamedTuple):
    """An artifact's files: where each comes from in the repository."""

    files: dict[str, str]
    """Artifact path → repository path of its content."""
    merged: dict[str, bytes]
    """Artifact paths whose content is a YAML merge of several files (``strategy: Merge``)."""
    partial: bool
    """Some of its content comes from outside the repository (or could not be reproduced)."""
    error: str | None
    """Why source-watcher would fail to generate it (None: it would not)."""


Inputs = Mapping[str, "Mapping[str, str] | None"]
"""Alias → the files of that source (source path → repository path); None: not in this repository."""


def assemble(spec: ArtifactSpec, inputs: Inputs, read: Any = None) -> Assembled:
    """The artifact's file tree, as source-watcher's builder makes it. ``read(repo_path) -> bytes``
    is needed for ``strategy: Merge`` only."""
    files: dict[str, str] = {}
    merged: dict[str, bytes] = {}
    partial = False
    if spec.problems:
        return Assembled({}, {}, False, spec.problems[0])
    for op in spec.copies:
        if op.alias not in spec.sources:
            return Assembled(files, merged, partial, f"copy {op.text}: source alias {op.alias!r} not found")
        found = inputs.get(op.alias)
        if found is None:
            partial = True  # not in this repository: its files are unknown
            continue
        if op.strategy == "Extract":
            partial = True  # tarballs are not unpacked here
            continue
        try:
            for dest, source in _copy(op, found, files):
                if op.strategy == "Merge" and dest in files and read is not None:
                    merged[dest] = _merge_yaml(merged.get(dest) or read(files[dest]), read(found[source]))
                    continue
                files[dest] = found[source]
                merged.pop(dest, None)
        except _CopyFailed as exc:
            return Assembled(files, merged, partial, f"copy {op.text}: {exc}")
    kept = {dest: src for dest, src in files.items() if not FLUX_DEFAULT_IGNORES.ignores(dest)}
    return Assembled(kept, {k: v for k, v in merged.items() if k in kept}, partial, None)


class _CopyFailed(Exception):
    pass


class _Listing:
    """A source's files as folders and names, for Go's glob and stat semantics."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self.files = files
        self.children: dict[str, set[str]] = {}
        for path in files:
            parts = path.split("/")
            for depth in range(len(parts)):
                folder = "/".join(parts[:depth]) or "."
                self.children.setdefault(folder, set()).add(parts[depth])

    def is_dir(self, path: str) -> bool:
        return path in self.children

    def exists(self, path: str) -> bool:
        return path in self.files or path in self.children

    def below(self, folder: str) -> Iterator[str]:
        prefix = "" if folder == "." else folder + "/"
        for path in sorted(self.files):
            if path.startswith(prefix):
                yield path

    def glob(self, pattern: str) -> list[str]:
        """Go's ``fs.Glob``."""
        if not _has_meta(pattern):
            return [pattern] if self.exists(pattern) else []
        folder, name = posixpath.split(pattern)
        folder = folder.rstrip("/") or "."
        if not _has_meta(folder):
            return self._glob_in(folder, name)
        if folder == pattern:
            raise _CopyFailed(f"invalid glob pattern {pattern!r}")
        out: list[str] = []
        for match in self.glob(folder):
            out.extend(self._glob_in(match, name))
        return out

    def _glob_in(self, folder: str, name: str) -> list[str]:
        entries = sorted(self.children.get(folder, ())) if self.is_dir(folder) else []
        return [n if folder == "." else f"{folder}/{n}" for n in entries if go_match(name, n)]


def _has_meta(path: str) -> bool:
    return any(c in path for c in "*?[\\")


def _copy(op: CopyOp, files: Mapping[str, str], written: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """(artifact path, source path) of every file one copy operation writes, in order; ``written``:
    the artifact's files so far (a file copied onto an existing folder's name goes into it)."""
    listing = _Listing(files)
    if not _GLOB_CHARS.search(op.pattern):
        source = posixpath.normpath(op.pattern) if op.pattern else "."
        if not listing.exists(source):
            raise _CopyFailed(f"source {source!r} does not exist")
        if listing.is_dir(source):
            base = posixpath.basename(source) if source != "." else ""
            yield from _copy_folder(listing, source, _join(op.dest, base), op.exclude)
            return
        if _excluded(source, op.exclude):
            return
        folder = op.dest.rstrip("/")
        if op.dest_is_dir or not folder or any(path.startswith(folder + "/") for path in written):
            yield _join(op.dest, posixpath.basename(source)), source
        else:
            yield op.dest.rstrip("/"), source
        return
    matches = [m for m in listing.glob(op.pattern) if m not in (".", "..")]
    if not matches:
        raise _CopyFailed(f"no files match pattern {op.pattern!r} in source {op.alias!r}")
    kept = [m for m in matches if not _excluded(m, op.exclude)]
    if not kept:
        raise _CopyFailed(f"all files matching pattern {op.pattern!r} in source {op.alias!r} were excluded")
    for match in kept:
        dest = _glob_destination(op.pattern, match, op.dest)
        if listing.is_dir(match):
            yield from _copy_folder(listing, match, dest, op.exclude)
        else:
            yield dest, match


def _copy_folder(
    listing: _Listing, folder: str, dest: str, exclude: tuple[str, ...]
) -> Iterator[tuple[str, str]]:
    prefix = "" if folder == "." else folder + "/"
    for path in listing.below(folder):
        rel = path[len(prefix) :]
        if _excluded_inside(rel, exclude):
            continue
        yield _join(dest, rel), path


def _excluded_inside(rel: str, exclude: tuple[str, ...]) -> bool:
    """copyDirWithRoots: a file is skipped when it, or a folder on the way to it, is excluded."""
    parts = rel.split("/")
    return any(_excluded("/".join(parts[: i + 1]), exclude) for i in range(len(parts)))


def _glob_destination(pattern: str, match: str, dest: str) -> str:
    if pattern.endswith("/**"):
        prefix = pattern[: -len("/**")]
        if match.startswith(prefix + "/"):
            return _join(dest, match[len(prefix) + 1 :])
    return _join(dest, match)


def _join(a: str, b: str) -> str:
    joined = posixpath.normpath(posixpath.join(a, b)) if (a or b) else "."
    return "" if joined == "." else joined


def _excluded(path: str, patterns: tuple[str, ...]) -> bool:
    name = posixpath.basename(path)
    for pattern in patterns:
        regex = _doublestar(pattern)
        if regex is None:
            continue
        if regex.fullmatch(path) or ("/" not in pattern and regex.fullmatch(name)):
            return True
    return False


_DOUBLESTAR: dict[str, re.Pattern[str] | None] = {}


def _doublestar(pattern: str) -> re.Pattern[str] | None:
    """doublestar's ``Match``: ``**`` as a whole path element spans folders, ``{a,b}`` alternatives."""
    if pattern in _DOUBLESTAR:
        return _DOUBLESTAR[pattern]
    out: list[str] = []
    i = 0
    depth = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern[i:] == "/**":
            out.append("(?:/.*)?")  # a trailing /** also matches the folder itself
            break
        at_start = i == 0 or pattern[i - 1] == "/"
        if pattern.startswith("**", i) and at_start and (i + 2 == len(pattern) or pattern[i + 2] == "/"):
            if i + 2 == len(pattern):
                out.append(".*")
                i += 2
            else:
                out.append("(?:.*/)?")
                i += 3
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                _DOUBLESTAR[pattern] = None
                return None
            body = pattern[i + 1 : end]
            if body[:1] in ("!", "^"):
                body = "^" + body[1:]
            out.append(f"[{body}]")
            i = end
        elif c == "{":
            out.append("(?:")
            depth += 1
        elif c == "}" and depth:
            out.append(")")
            depth -= 1
        elif c == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    try:
        compiled: re.Pattern[str] | None = re.compile("".join(out))
    except re.error:
        compiled = None
    _DOUBLESTAR[pattern] = compiled
    return compiled


def _merge_yaml(base: bytes, overlay: bytes) -> bytes:
    """Helm's values merge: mappings merged key by key, anything else replaced; written so that a Go
    reader reads back the same types."""
    from ..load import yamlio
    from ..model.base import merge_maps
    from ..yamlout import dump_yaml

    def load(data: bytes) -> Any:
        parsed = yamlio.parse(data)
        return parsed.documents[0] if parsed.documents else None

    a, b = load(base), load(overlay)
    merged = merge_maps(a, b) if isinstance(a, dict) and isinstance(b, dict) else b
    return dump_yaml(merged).encode()


# -- on disk ------------------------------------------------------------------------------------


def materialize(tree: SourceTree, assembled: Assembled) -> SourceTree:
    """The artifact as a folder of its own (kept in the cache, keyed by its content), read as a tree
    whose files Flux sees exactly (the archive is already filtered)."""
    import hashlib  # here: only a materialized artifact starts OpenSSL

    from ..load.cache import cache_dir

    digest = hashlib.sha256()
    for dest, source in sorted(assembled.files.items()):
        size, mtime = tree.stats.get(source, (0, 0))
        digest.update(f"{dest}\0{source}\0{size}\0{mtime}\n".encode("utf-8", "surrogateescape"))
        if dest in assembled.merged:
            digest.update(hashlib.sha256(assembled.merged[dest]).digest())
    digest.update(str(tree.root).encode("utf-8", "surrogateescape"))
    folder = cache_dir() / "artifacts" / digest.hexdigest()[:32]
    if _holds_plaintext_secrets(tree, assembled):
        # A SOPS file not encrypted yet: the copy lives in RAM for this run only, never in the cache.
        from ..fsutil import process_tempdir

        folder = process_tempdir("homeops-artifact-") / "tree"
        _write(tree, assembled, folder)
        return SourceTree(folder).view(SourceIgnore(()))
    try:
        if folder.is_dir():
            os.utime(folder)  # recently used: kept by pruning
        else:
            _write(tree, assembled, folder)  # renamed into place whole: a folder that exists is complete
    except OSError:
        # The cache cannot be written (a full disk, a read-only home): this run keeps its own copy.
        from ..fsutil import process_tempdir

        folder = process_tempdir("homeops-artifact-") / "tree"
        _write(tree, assembled, folder)
    return SourceTree(folder).view(SourceIgnore(()))


def _holds_plaintext_secrets(tree: SourceTree, assembled: Assembled) -> bool:
    """Whether a ``*.sops.*`` file of the artifact is not SOPS-encrypted (no ``sops`` map with a mac)."""
    for source in assembled.files.values():
        if ".sops." in source.rpartition("/")[2]:
            try:
                data = tree.read_bytes(source)
            except OSError:
                continue
            if b"sops" not in data or b"mac" not in data:
                return True
    return False


def _write(tree: SourceTree, assembled: Assembled, folder: Any) -> None:
    import shutil  # only when an artifact is written: check starts faster without it
    import tempfile

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".artifact-", dir=folder.parent)
    try:
        for dest, source in assembled.files.items():
            target = os.path.join(staging, dest)
            if normalize(dest) is None or not dest:  # never outside the staging folder, whatever came in
                raise OSError(f"artifact path {dest!r} leaves the artifact")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            data = assembled.merged.get(dest)
            with open(target, "wb") as handle:
                handle.write(data if data is not None else tree.read_bytes(source))
        try:
            os.rename(staging, folder)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # another process wrote the same artifact first
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _prune(folder.parent)


_KEEP = 32


def _prune(parent: Any) -> None:
    import shutil
    import time

    try:
        for staging in parent.glob(".artifact-*"):  # a writer killed half-way (SIGKILL) left it
            if time.time() - staging.stat().st_mtime > 3600:
                shutil.rmtree(staging, ignore_errors=True)
        stored = sorted(
            (p for p in parent.iterdir() if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in stored[_KEEP:]:
            shutil.rmtree(old, ignore_errors=True)
    except OSError:
        pass


def repo_files(view: SourceTree) -> dict[str, str]:
    """The files of a repository view Flux sees, each its own repository path."""
    return {rel: rel for rel in view.files() if view.flux_visible(rel)}


__all__ = [
    "SOURCE_EXTENSIONS_GROUP",
    "ArtifactSpec",
    "Assembled",
    "CopyOp",
    "artifact_specs",
    "assemble",
    "is_generator",
    "materialize",
    "normalize",
    "repo_files",
]
