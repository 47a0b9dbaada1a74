"""A repository on disk as homeops reads it: its files, their parsed YAML, and what is ignored.

Paths inside the tree are repo-relative POSIX strings (``kubernetes/apps/default/kustomization.yaml``).
Symlinks are followed only when they stay inside the repository; one that points outside is treated
as absent and recorded in :attr:`SourceTree.escapes`. Parsed files are memoised, and persisted in the
on-disk cache (:mod:`homeops.load.cache`) keyed by size and modification time.
"""

from __future__ import annotations

import bisect
import copy
import os
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..records import NamedTuple
from .ignore import SourceIgnore, SourcePattern, read_source_patterns
from .prefetch import MINIMUM as _PARALLEL_MIN
from .prefetch import YAML_SUFFIXES
from .walk import Walk, read_file, walk

if TYPE_CHECKING:
    from ..parallel import Split
    from .cache import ParseCache
    from .yamlio import ParsedFile

#: Jinja and other template sources: inputs to render, never manifests.
TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".tmpl", ".tpl")


class Document(NamedTuple):
    """One YAML document of one file."""

    path: str
    """Repo-relative path of the file."""
    index: int  # type: ignore[assignment]  # shadows tuple.index, which no caller needs here
    """0-based position of the document in its file."""
    line: int
    """1-based line the document's content starts on."""
    data: object
    """The parsed content: a mapping, a list, a scalar or None."""


class SourceTree:
    """Read access to one repository, with ignores, symlink safety and a parse cache."""

    def __init__(
        self, root: str | Path, *, cache: ParseCache | None = None, walked: Walk | None = None
    ) -> None:
        """``walked``: the result of :func:`homeops.load.walk.walk` on this root, when already done."""
        path = Path(root)
        if not path.exists():
            raise UsageError(f"{root}: no such file or directory")
        if not path.is_dir():
            raise UsageError(f"{root}: not a directory")
        self.root = path.resolve()
        self._root_text = str(self.root)
        self._parsed: dict[str, ParsedFile] = {}
        self._read: dict[str, bytes] = {}
        """The bytes of the files parsed here (or by a helper for this tree): what they were parsed from."""
        self._cache = cache
        self._files: list[str] | None = None
        self._inside_cache: dict[str, bool] = {"": True}
        self._prefetch: Split[str] | None = None
        self.stats: dict[str, tuple[int, int]] = {}
        """(size, mtime_ns) of every walked file: the parse cache and artifact digests compare them."""
        self.listings: dict[str, frozenset[str]] = {}
        """The entry names of every folder the walk read (see :attr:`homeops.load.walk.Walk.listings`)."""
        self.escapes: list[str] = []
        """Symlinks that point outside the repository (never followed)."""
        self.unreadable: list[tuple[str, str]] = []
        """(path, why) of folders and files the walk could not read: their files are missing."""
        self._source: SourceIgnore | None = None
        """The patterns Flux's artifact of this tree is archived with (see :meth:`view`)."""
        self._visible: dict[tuple[str, bool], bool] = {}
        if walked is not None:
            self._take(walked)

    # -- paths ---------------------------------------------------------------------------------

    def abspath(self, rel: str) -> Path:
        return self.root / rel if rel not in ("", ".") else self.root

    def relpath(self, path: str | Path) -> str:
        """Repo-relative form of an absolute or cwd-relative path (must be inside the repo)."""
        absolute = Path(os.path.abspath(path))
        try:
            rel = absolute.relative_to(self.root)
        except ValueError:
            resolved = absolute.resolve()
            try:
                rel = resolved.relative_to(self.root)
            except ValueError:
                raise UsageError(f"{path} is outside the repository {self.root}") from None
        text = rel.as_posix()
        return "" if text == "." else text

    def _inside(self, rel: str) -> bool:
        """Whether ``rel`` resolves to somewhere inside the repository (symlinks included).

        Folders are resolved once each (memoised); a file costs one ``lstat`` unless it is a link.
        """
        found = self._inside_cache.get(rel)
        if found is not None:
            return found
        if rel in self.stats:
            return True  # the walk only keeps files inside
        full = self.abspath(rel)
        folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
        if folder != rel and not self._inside(folder):
            result = False
        elif os.path.islink(full):
            try:
                resolved = full.resolve()
            except (OSError, RuntimeError):
                resolved = None
            result = resolved is not None and (resolved == self.root or self.root in resolved.parents)
        else:
            result = True
        self._inside_cache[rel] = result
        return result

    def exists(self, rel: str) -> bool:
        norm = normalize(rel)
        if norm in self.stats or (norm and self._holds_walked(norm)):
            return True  # a file the walk found, or a folder holding one: inside the repository
        return norm is not None and self.abspath(norm).exists() and self._inside(norm)

    def _holds_walked(self, folder: str) -> bool:
        files = self._files
        if files is None:
            return False
        prefix = folder + "/"
        at = bisect.bisect_left(files, prefix)
        return at < len(files) and files[at].startswith(prefix)

    def is_file(self, rel: str) -> bool:
        norm = normalize(rel)
        if norm in self.stats:
            return True  # a file the walk found, inside the repository
        return norm is not None and self.abspath(norm).is_file() and self._inside(norm)

    def is_dir(self, rel: str) -> bool:
        norm = normalize(rel)
        return norm is not None and self.abspath(norm).is_dir() and self._inside(norm)

    def listdir(self, rel: str) -> list[str]:
        """Sorted entry names of a folder (symlinks leaving the repo left out)."""
        base = self.abspath(rel)
        names = []
        for name in sorted(os.listdir(base)):
            child = join(rel, name)
            if (base / name).is_symlink() and not self._inside(child):
                self._escape(child)
                continue
            names.append(name)
        return names

    def _escape(self, rel: str) -> None:
        if rel not in self.escapes:
            self.escapes.append(rel)

    # -- content -------------------------------------------------------------------------------

    def read_bytes(self, rel: str) -> bytes:
        """The bytes of a file: those it was parsed from when this tree parsed it (a check reads each
        file once, and a line it reports is a line of what it parsed), else read now."""
        found = self._read.get(rel)
        if found is not None:
            return found
        if not self._inside(rel):
            raise FileNotFoundError(rel)
        return read_file(os.path.join(self._root_text, rel))

    def read_text(self, rel: str) -> str:
        return self.read_bytes(rel).decode("utf-8")

    def parsed(self, rel: str) -> ParsedFile:
        """The parsed YAML of a file, memoised and cached on disk."""
        found = self._parsed.get(rel)
        if found is not None:
            return found
        known = self.stats.get(rel)
        if known is None:
            st = self.abspath(rel).stat()
            known = (st.st_size, st.st_mtime_ns)
        result = self._cache.get(rel, *known) if self._cache else None
        if result is None:
            from .yamlio import parse

            data = self.read_bytes(rel)
            self._read[rel] = data
            result = parse(data)
            if self._cache:
                self._cache.put(rel, *known, result)
        self._parsed[rel] = result
        return result

    def adopt(self, split: Split[str]) -> None:
        """Take over a helper already parsing files of this tree (:func:`homeops.load.prefetch.start`);
        :meth:`preload` collects its work."""
        if self._prefetch is None:
            self._prefetch = split
        else:
            split.cancel()

    def preload(self, rels: list[str]) -> None:
        """Parse many files at once, on two cores when that is safe and worth it.

        A forked helper parses files from one end of the list while this process parses from the other;
        see :mod:`homeops.parallel`. Only forks with a single thread and before Helm's Go library is
        loaded (it cannot survive a fork).
        """
        from ..parallel import start

        split, self._prefetch = self._prefetch, None
        if split is None:
            split = start(
                self._unparsed(rels), self._parse_plain, minimum=_PARALLEL_MIN, what="parsing YAML files"
            )
        if split is not None:
            for index, result in split.finish(self._parse_plain).items():
                if result is not None:
                    self._read[split.items[index]] = result[3]
                    self._remember(split.items[index], _from_marshal(result))
        for rel in rels:
            self.parsed(rel)

    def _parse_plain(self, rel: str) -> tuple[Any, ...] | None:
        """Parse one file as plain data, for the way back from the helper (None when unreadable)."""
        from .prefetch import parse_plain

        return parse_plain(self._root_text, rel) if self._inside(rel) else None

    def _unparsed(self, rels: list[str]) -> list[str]:
        todo = [rel for rel in rels if rel not in self._parsed]
        if self._cache:
            todo = [rel for rel in todo if self._cached(rel) is None]
        return todo

    def _cached(self, rel: str) -> ParsedFile | None:
        known = self.stats.get(rel)
        return self._cache.get(rel, *known) if self._cache and known else None

    def _remember(self, rel: str, result: ParsedFile) -> None:
        self._parsed[rel] = result
        known = self.stats.get(rel)
        if self._cache and known:
            self._cache.put(rel, *known, result)

    def documents(self, rel: str) -> list[Document]:
        parsed = self.parsed(rel)
        return [
            Document(rel, i, line, data)
            for i, (data, line) in enumerate(zip(parsed.documents, parsed.lines, strict=True))
        ]

    def save_cache(self) -> None:
        if self._cache:
            self._cache.save()

    # -- walking -------------------------------------------------------------------------------

    def files(self) -> list[str]:
        """Every file of the repository that Git would track (``.gitignore`` honoured), sorted."""
        if self._files is None:
            self._take(walk(self._root_text))
        assert self._files is not None
        return self._files

    def _take(self, walked: Walk) -> None:
        self._files = walked.files
        self.stats.update(walked.stats)
        for rel in walked.escapes:
            self._escape(rel)
        self.unreadable.extend(walked.unreadable)
        self.listings.update(walked.listings)

    def yaml_files(self) -> list[str]:
        return [f for f in self.files() if f.endswith(YAML_SUFFIXES)]

    # -- what Flux sees -------------------------------------------------------------------------

    def source_patterns(self) -> list[SourcePattern]:
        """The patterns of every ``.sourceignore`` file, as source-controller loads them: each scoped
        to its folder, the root's first, then folder by folder, depth first."""
        found = [f for f in self.files() if f == ".sourceignore" or f.endswith("/.sourceignore")]
        found.sort(key=lambda f: f.split("/")[:-1])
        patterns: list[SourcePattern] = []
        for rel in found:
            try:
                text = self.read_bytes(rel).decode("utf-8", "replace")
            except OSError:
                continue
            domain = tuple(rel.split("/")[:-1])
            patterns.extend(read_source_patterns(text, domain, rel))
        return patterns

    @property
    def source(self) -> SourceIgnore:
        """The patterns source-controller archives this tree with: those of its ``.sourceignore``
        files (which replace the defaults), or the defaults when it has none."""
        if self._source is None:
            self._source = SourceIgnore.for_source(self.source_patterns())
        return self._source

    def view(self, source: SourceIgnore) -> SourceTree:
        """The same repository as the artifact of a source archived with ``source`` (a GitRepository's
        ``spec.ignore`` added to the ``.sourceignore`` files). Shares files, parses and caches."""
        self.files()  # walked once, shared by the view
        other = copy.copy(self)
        other._prefetch = None
        other._source = source
        other._visible = {}
        return other

    def flux_visible(self, rel: str, is_dir: bool = False, *, parents_visible: bool = False) -> bool:
        """Whether source-controller would put this path in the artifact of this tree.

        A file is in it unless the source's patterns leave it out (each file is judged on its own, as
        the archive walk never skips a folder); a folder is in it when one of its files is. Files Git
        does not track (``.gitignore``) are never in it. ``parents_visible`` is accepted for callers
        that walk down folder by folder; it changes nothing.
        """
        key = (rel, is_dir)
        found = self._visible.get(key)
        if found is None:
            found = self._visible[key] = self._dir_visible(rel) if is_dir else self._file_visible(rel)
        return found

    def _file_visible(self, rel: str) -> bool:
        files = self.files()
        at = bisect.bisect_left(files, rel)
        if at >= len(files) or files[at] != rel:
            return False
        return not self.source.ignores(rel)

    def _dir_visible(self, rel: str) -> bool:
        if rel == "":
            return True
        files = self.files()
        prefix = rel + "/"
        at = bisect.bisect_left(files, prefix)
        while at < len(files) and files[at].startswith(prefix):
            if self.flux_visible(files[at]):
                return True
            at += 1
        return False


def _from_marshal(data: tuple[Any, ...]) -> ParsedFile:
    from .yamlio import ParsedFile, ParseFailure

    documents, lines, failure = data[:3]
    return ParsedFile(documents, lines, ParseFailure(*failure) if failure else None)


def join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def normalize(rel: str) -> str | None:
    """Clean a repo-relative path (``./a/../b`` → ``b``); None when it climbs out of the repo."""
    if rel.startswith("/"):
        return None
    norm = posixpath.normpath(rel) if rel else "."
    if norm == "..":
        return None
    if norm.startswith("../"):
        return None
    return "" if norm == "." else norm
