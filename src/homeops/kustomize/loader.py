"""File access for one build: path rules, load restrictions, and resource files as objects.

Paths in a kustomization are relative to its folder. Whatever the mode, a path may not leave the
source root (``..`` past the root, an absolute path, a symlink pointing out): homeops reads only the
repository, as kustomize-controller reads only its artifact (it builds through a file system that
refuses every path and symlink leaving the artifact root). Such a path raises :class:`OutsideSource`,
naming the kustomization file and line. ``kubectl kustomize`` mode (``flux=False``) adds kustomize's
default ``LoadRestrictionsRootOnly``: files (not folders) must sit inside the kustomization's own
folder. Flux mode is ``LoadRestrictionsNone`` within the repository, as kustomize-controller builds.
"""

from __future__ import annotations

import os
import stat
import weakref
from typing import Any

from ..errors import KustomizeError, UnsupportedFeature, Where
from ..load.tree import SourceTree, normalize
from ..load.yamlio import ParsedFile
from ..model.base import Origin
from ..records import NamedTuple

_REMOTE_PREFIXES = (
    "http://",
    "https://",
    "git::",
    "git@",
    "ssh://",
    "github.com/",
    "gitlab.com/",
    "bitbucket.org/",
)


def looks_remote(entry: str) -> bool:
    return entry.startswith(_REMOTE_PREFIXES) or "?ref=" in entry or "://" in entry


class OutsideSource(KustomizeError):
    """A kustomization names a file or folder outside the source root; nothing there is read."""


class RemoteUnavailable(KustomizeError):
    """A remote base or file that homeops could not fetch (offline, not in the cache, unreachable):
    the build could not be verified, which says nothing against the repository."""


class Template(NamedTuple):
    """One object of a resource file, validated once per tree (never mutated)."""

    obj: dict[str, Any]
    origin: Origin


class _FileCache:
    """Per source tree: validated objects of resource files (parsed once), and what each path is."""

    def __init__(self, tree: SourceTree) -> None:
        self.objects: dict[str, list[Template] | KustomizeError] = {}
        self.kustomizations: dict[tuple[str, str], Any] = {}
        """(file, folder) → its parsed :class:`~homeops.kustomize.kfile.Kustomization` (never an error)."""
        self.kinds: dict[str, str | None] = {}
        self.reals: dict[str, str] = {}
        self.visible: dict[str, bool] = {}
        self.bases: dict[tuple[str, bool], Any] = {}
        """(folder, Flux mode) → its build as a base (:class:`~homeops.kustomize.engine.BuiltBase`)."""
        self.walked = tree.stats
        """The files the walk found (regular files inside the repository, parents folders inside it)."""
        self.listings = tree.listings
        """The folders the walk read (inside the repository), with the name of every entry they hold."""
        self.root = str(tree.root)
        self.real_root = os.path.realpath(tree.root)

    def realpath(self, rel: str) -> str:
        found = self.reals.get(rel)
        if found is None:
            found = self.reals[rel] = os.path.realpath(os.path.join(self.root, rel) if rel else self.root)
        return found

    def kind(self, rel: str) -> str | None:
        """``file``, ``dir``, ``outside`` (reached through a symlink leaving the repository) or None."""
        found = self.kinds.get(rel, _UNKNOWN)
        if found is not _UNKNOWN:
            return found
        # What the walk has told already, without one lstat per path: its files, its folders, and the
        # names a folder it read does not hold (most of the kustomization file names tried are absent).
        if rel in self.walked:
            self.kinds[rel] = "file"
            return "file"
        if rel in self.listings:
            self.kinds[rel] = "dir"
            return "dir"
        folder, _, name = rel.rpartition("/")
        if rel and folder in self.listings and name not in self.listings[folder]:
            self.kinds[rel] = None
            return None
        result: str | None
        parent = rel.rpartition("/")[0] if rel else None
        if parent is not None and self.kind(parent) != "dir":
            result = "outside" if self.kind(parent) == "outside" else None
        else:
            full = os.path.join(self.root, rel) if rel else self.root
            try:
                mode = os.lstat(full).st_mode
                if stat.S_ISLNK(mode):
                    real = os.path.realpath(full)
                    if real != self.real_root and not real.startswith(self.real_root + os.sep):
                        self.kinds[rel] = "outside"
                        return "outside"
                    mode = os.stat(full).st_mode
            except OSError:
                mode = 0
            result = "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else None
        self.kinds[rel] = result
        return result


_CACHES: weakref.WeakKeyDictionary[SourceTree, _FileCache] = weakref.WeakKeyDictionary()


_UNKNOWN = "?"


def _cache(tree: SourceTree) -> _FileCache:
    found = _CACHES.get(tree)
    if found is None:
        found = _CACHES[tree] = _FileCache(tree)
    return found


def file_cache(tree: SourceTree) -> _FileCache:
    """What is known about ``tree``'s files, shared by every build of it."""
    return _cache(tree)


def path_kind(tree: SourceTree, rel: str) -> str | None:
    """What ``rel`` is in ``tree`` (cached): ``file``, ``dir``, ``outside`` or None."""
    return _cache(tree).kind(rel)


class Loader:
    """Resolves and reads the files of one build, remembering every file read."""

    def __init__(self, tree: SourceTree, *, flux: bool) -> None:
        self.tree = tree
        self.flux = flux
        self.files: set[str] = set()
        self._cache = _cache(tree)

    @property
    def bases(self) -> dict[tuple[str, bool], Any]:
        """The bases built so far from this tree (shared by its builds)."""
        return self._cache.bases

    # -- paths ---------------------------------------------------------------------------------

    def resolve(self, base: str, entry: str, where: Where, what: str) -> str:
        """The repo-relative path ``entry`` names, relative to folder ``base``."""
        if looks_remote(entry):
            raise UnsupportedFeature(f"remote {what} {entry!r}", where=where)
        if entry.startswith(("/", "\\")) or (len(entry) > 1 and entry[1] == ":"):
            raise OutsideSource(
                f"{what} {entry!r} is an absolute path: Flux reads nothing outside its source, "
                "and homeops refuses to",
                where=where,
                hint="use a path relative to the kustomization's folder, inside the repository",
            )
        joined = f"{base}/{entry}" if base else entry
        rel = normalize(joined)
        if rel is None:
            raise OutsideSource(
                f"{what} {entry!r} leaves the repository: Flux reads nothing outside its source, "
                "and homeops refuses to",
                where=where,
                hint="kustomizations may only refer to files inside the repository",
            )
        self._check_symlinks(rel, entry, where, what)
        if self._cache.kind(rel) is not None:
            self.check_visible(rel, entry, where, what)
        return rel

    def _check_symlinks(self, rel: str, entry: str, where: Where, what: str) -> None:
        if self._cache.kind(rel) == "outside":
            raise OutsideSource(
                f"{what} {entry!r} is a symlink that points outside the repository; it is not followed",
                where=where,
                hint="replace the symlink with the file, or point it inside the repository",
            )

    def is_dir(self, rel: str) -> bool:
        return self._cache.kind(rel) == "dir"

    def is_file(self, rel: str) -> bool:
        return self._cache.kind(rel) == "file"

    def check_visible(self, rel: str, entry: str, where: Where, what: str) -> None:
        """In Flux mode, a path source-controller leaves out of its artifact does not exist."""
        if not self.flux or self._visible(rel):
            return
        raise KustomizeError(
            f"{what} {entry!r} is not in the artifact Flux builds from (source-controller leaves it out: "
            ".sourceignore, or its default ignores such as images and archives)",
            where=where,
            hint="Flux cannot read this file; change .sourceignore or the file type, or stop referring to it",
        )

    def _visible(self, rel: str) -> bool:
        found = self._cache.visible.get(rel)
        if found is None:
            parent = rel.rpartition("/")[0]
            found = (not parent or self._visible(parent)) and self.tree.flux_visible(
                rel, is_dir=self._cache.kind(rel) == "dir", parents_visible=True
            )
            self._cache.visible[rel] = found
        return found

    def check_root_only(self, root: str, rel: str, entry: str, where: Where, what: str) -> None:
        """kustomize's default load restriction: a file must be inside the kustomization folder."""
        if self.flux:
            return
        real_root = self._cache.realpath(root)
        real = self._cache.realpath(rel)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise KustomizeError(
                f"{what} {entry!r} is outside the kustomization's folder (kustomize's default "
                "LoadRestrictionsRootOnly refuses it)",
                where=where,
                hint="move the file into the folder, or build with Flux semantics (--flux), "
                "which use LoadRestrictionsNone",
            )

    # -- reading -------------------------------------------------------------------------------

    def read_bytes(self, rel: str, where: Where, what: str) -> bytes:
        try:
            if self._cache.kind(rel) != "file":
                raise FileNotFoundError(rel)
            data = self.tree.read_bytes(rel)  # what the tree parsed it from, when it did
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise KustomizeError(
                f"{what} {rel!r} does not exist",
                where=where,
                hint="fix the path, or add the missing file",
            ) from None
        except OSError as exc:
            raise KustomizeError(f"cannot read {what} {rel!r}: {exc.strerror or exc}", where=where) from None
        self.files.add(rel)
        return data

    def parsed(self, rel: str, where: Where, what: str) -> ParsedFile:
        """The parsed YAML of a file the build reads (a missing file is an error)."""
        if self._cache.kind(rel) != "file":
            raise KustomizeError(f"{what} {rel!r} does not exist", where=where, hint="fix the path")
        self.files.add(rel)
        return self.tree.parsed(rel)

    def objects(self, rel: str) -> list[Template]:
        """The objects of a resource file (``List`` kinds expanded), validated as kustomize does."""
        self.files.add(rel)
        cache = _cache(self.tree)
        found = cache.objects.get(rel)
        if found is None:
            try:
                found = _load_objects(self.tree, rel)
            except KustomizeError as exc:
                found = exc
            cache.objects[rel] = found
        if isinstance(found, KustomizeError):
            raise found
        return found


def _load_objects(tree: SourceTree, rel: str) -> list[Template]:
    parsed = tree.parsed(rel)
    if parsed.failure is not None:
        raise KustomizeError(
            f"cannot parse {rel}: {parsed.failure.reason}",
            where=Where(rel, parsed.failure.line),
            hint="fix the YAML of the file (kustomize reads it with go-yaml v3)",
        )
    result: list[Template] = []
    for index, (doc, line) in enumerate(zip(parsed.documents, parsed.lines, strict=True)):
        if doc is None or doc == {}:
            continue
        origin = Origin(rel, line, index)
        if not isinstance(doc, dict):
            raise KustomizeError(
                f"document {index + 1} of {rel} is not a mapping, so not a Kubernetes object",
                where=Where(rel, line),
                hint="every document of a resource file must be a Kubernetes object",
            )
        kind = doc.get("kind")
        if not isinstance(kind, str) or not kind:
            raise KustomizeError(
                f"document {index + 1} of {rel} has no kind",
                where=Where(rel, line),
                hint="add apiVersion and kind, or move non-Kubernetes YAML out of the resources",
            )
        if not kind.endswith("List"):
            _validate(doc, rel, line)
            result.append(Template(doc, origin))
            continue
        _inline_list(doc, rel, origin, result)
    return result


def _inline_list(doc: dict[str, Any], rel: str, origin: Origin, result: list[Template]) -> None:
    """A ``FooList`` with ``items`` stands for its items; without ``items`` it is an object."""
    kind = doc.get("kind")
    if not isinstance(kind, str) or not kind.endswith("List") or "items" not in doc:
        result.append(Template(doc, origin))
        return
    items = doc["items"]
    if items is None:
        return
    if not isinstance(items, list):
        raise KustomizeError(f"expected a list in {kind}.items in {rel}", where=Where(rel, origin.line))
    for item in items:
        if not isinstance(item, dict):
            raise KustomizeError(
                f"an item of the {kind} in {rel} is not an object", where=Where(rel, origin.line)
            )
        if item:
            _inline_list(item, rel, origin, result)


def _validate(obj: dict[str, Any], rel: str, line: int) -> None:
    kind = obj.get("kind")
    if not isinstance(kind, str) or not kind:
        raise KustomizeError(f"an object in {rel} has no kind", where=Where(rel, line))
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if (name is None or name == "") and not kind.endswith("List"):
        raise KustomizeError(
            f"a {kind} in {rel} has no metadata.name",
            where=Where(rel, line),
            hint="give the object a name",
        )
