"""A repository on disk as homeops reads it: its files, their parsed YAML, and what is ignored.

Paths inside the tree are repo-relative POSIX strings (``kubernetes/apps/default/kustomization.yaml``).
Symlinks are followed only when they stay inside the repository; one that points outside is treated
as absent and recorded in :attr:`SourceTree.escapes`. Parsed files are memoised, and persisted in the
on-disk cache (:mod:`homeops.load.cache`) keyed by size and modification time.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from .ignore import FLUX_DEFAULT_IGNORES, IgnoreRules

if TYPE_CHECKING:
    from .cache import ParseCache
    from .yamlio import ParsedFile

YAML_SUFFIXES = (".yaml", ".yml")
#: Jinja and other template sources: inputs to render, never manifests.
TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".tmpl", ".tpl")


@dataclass(frozen=True, slots=True)
class Document:
    """One YAML document of one file."""

    path: str
    """Repo-relative path of the file."""
    index: int
    """0-based position of the document in its file."""
    line: int
    """1-based line the document's content starts on."""
    data: object
    """The parsed content: a mapping, a list, a scalar or None."""


class SourceTree:
    """Read access to one repository, with ignores, symlink safety and a parse cache."""

    def __init__(self, root: str | Path, *, cache: ParseCache | None = None) -> None:
        path = Path(root)
        if not path.exists():
            raise UsageError(f"{root}: no such file or directory")
        if not path.is_dir():
            raise UsageError(f"{root}: not a directory")
        self.root = path.resolve()
        self._root_text = str(self.root)
        self._parsed: dict[str, ParsedFile] = {}
        self._cache = cache
        self._ignore_cache: dict[str, IgnoreRules | None] = {}
        self._files: list[str] | None = None
        self._inside_cache: dict[str, bool] = {"": True}
        self.stats: dict[str, tuple[int, int]] = {}
        """(size, mtime_ns) of every walked file, for fingerprints."""
        self.escapes: list[str] = []
        """Symlinks that point outside the repository (never followed)."""

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
        return norm is not None and self.abspath(norm).exists() and self._inside(norm)

    def is_file(self, rel: str) -> bool:
        norm = normalize(rel)
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
        if not self._inside(rel):
            raise FileNotFoundError(rel)
        with open(os.path.join(self._root_text, rel), "rb") as handle:
            return handle.read()

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

            result = parse(self.read_bytes(rel))
            if self._cache:
                self._cache.put(rel, *known, result)
        self._parsed[rel] = result
        return result

    def preload(self, rels: list[str]) -> None:
        """Parse many files at once, on two cores when that is safe and worth it.

        A forked child parses half of the files not yet parsed and sends them back with ``marshal``.
        Only forks with a single thread and before Helm's Go library is loaded (it cannot survive a
        fork); anything unexpected in the child just means the parent parses those files itself.
        """
        todo = [rel for rel in rels if rel not in self._parsed]
        if self._cache:
            todo = [rel for rel in todo if self._cached(rel) is None]
        if len(todo) < _PARALLEL_MIN or not _fork_safe():
            for rel in todo:
                self.parsed(rel)
            return
        theirs, mine = todo[1::2], todo[0::2]
        received = _parse_in_child(self, theirs)
        for rel in mine:
            self.parsed(rel)
        for rel in theirs:
            found = received.get(rel)
            if found is None:
                self.parsed(rel)
            else:
                self._remember(rel, found)

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
            self._files = sorted(self._walk("", [], {os.stat(self.root).st_ino}))
        return self._files

    def fingerprint(self) -> str:
        """A digest of every file's path, size and modification time: changes when any file does."""
        import hashlib

        digest = hashlib.sha256()
        for rel in self.files():
            size, mtime = self.stats.get(rel, (0, 0))
            digest.update(f"{rel}\0{size}\0{mtime}\n".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def yaml_files(self) -> list[str]:
        return [f for f in self.files() if f.endswith(YAML_SUFFIXES)]

    def flux_visible(self, rel: str, is_dir: bool = False) -> bool:
        """Whether source-controller would put this path in the Git artifact."""
        if FLUX_DEFAULT_IGNORES.ignores(rel, is_dir):
            return False
        rules = self._rules("", ".sourceignore")
        return not (rules and rules.ignores(rel, is_dir))

    def _rules(self, folder: str, name: str) -> IgnoreRules | None:
        key = join(folder, name)
        if key not in self._ignore_cache:
            path = self.abspath(key)
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                self._ignore_cache[key] = None
            else:
                rules = IgnoreRules(text.splitlines())
                self._ignore_cache[key] = rules if rules else None
        return self._ignore_cache[key]

    def _walk(self, folder: str, stack: list[tuple[str, IgnoreRules]], ancestors: set[int]) -> Iterator[str]:
        """Files below ``folder``; ``ancestors`` holds the inodes of the folders above (loop guard)."""
        try:
            entries = sorted(os.scandir(self.abspath(folder)), key=lambda e: e.name)
        except OSError:
            return
        if any(e.name == ".gitignore" for e in entries):
            rules = self._rules(folder, ".gitignore")
            if rules:
                stack = [*stack, (folder, rules)]
        for entry in entries:
            name = entry.name
            if name == ".git":
                continue
            rel = join(folder, name)
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir()
                is_file = not is_dir and entry.is_file()
            except OSError:
                continue
            if is_link and not self._inside(rel):
                self._escape(rel)
                continue
            if (is_dir or is_file) and _ignored(stack, rel, is_dir):
                continue
            if is_dir:
                try:
                    inode = entry.stat().st_ino if is_link else entry.inode()
                except OSError:
                    continue  # a dangling link
                if inode in ancestors:
                    continue  # a link back to a folder above: a loop
                yield from self._walk(rel, stack, ancestors | {inode})
            elif is_file:
                st = entry.stat()
                self.stats[rel] = (st.st_size, st.st_mtime_ns)
                yield rel


_PARALLEL_MIN = 150
"""Below this many files a fork costs more than it saves."""


def _fork_safe() -> bool:
    import sys
    import threading

    return (
        hasattr(os, "fork")
        and threading.active_count() == 1
        and "helm_python" not in sys.modules
        and os.environ.get("HOMEOPS_NO_FORK") != "1"
    )


def _parse_in_child(tree: SourceTree, rels: list[str]) -> dict[str, ParsedFile]:
    """Start a child that parses ``rels``; return its results (empty on any failure)."""
    import marshal

    from .yamlio import ParsedFile, ParseFailure, parse

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: parse, send, exit without running any parent cleanup
        code = 0
        try:
            os.close(read_end)
            out = []
            for rel in rels:
                try:
                    parsed = parse(tree.read_bytes(rel))
                except OSError:
                    continue
                failure = (parsed.failure.line, parsed.failure.reason) if parsed.failure else None
                out.append((rel, parsed.documents, parsed.lines, failure))
            try:
                payload = marshal.dumps(out)
            except ValueError:
                payload = marshal.dumps([])
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    chunks = []
    with os.fdopen(read_end, "rb") as pipe:
        while chunk := pipe.read(1 << 20):
            chunks.append(chunk)
    os.waitpid(pid, 0)
    try:
        items = marshal.loads(b"".join(chunks)) if chunks else []
    except (EOFError, ValueError, TypeError):
        return {}
    return {
        rel: ParsedFile(docs, lines, ParseFailure(*failure) if failure else None)
        for rel, docs, lines, failure in items
    }


def _ignored(stack: list[tuple[str, IgnoreRules]], rel: str, is_dir: bool) -> bool:
    verdict: bool | None = None
    for base, rules in stack:
        sub = rel[len(base) + 1 :] if base else rel
        found = rules.match(sub, is_dir)
        if found is not None:
            verdict = found
    return bool(verdict)


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
