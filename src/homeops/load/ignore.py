"""Ignore patterns: Git's (``.gitignore``, ``.homeops.yaml`` ignores) and source-controller's
(``.sourceignore``, a GitRepository's ``spec.ignore``).

:class:`IgnoreRules` implements the gitignore rules users rely on: ``#`` comments, ``!`` negation
(last match wins), a leading or inner ``/`` anchors to the file's folder, a trailing ``/`` matches
folders only, ``*``, ``?``, ``[…]`` and ``**``.

:class:`SourceIgnore` is what Flux's source-controller applies when it archives an artifact, which is
not quite Git: fluxcd/pkg ``sourceignore`` parses patterns with go-git's gitignore package. A pattern
without ``/`` matches any one name along the path (so ``build/`` also hides ``a/build/x``); a pattern
with ``/`` is anchored to the folder of its ``.sourceignore`` and matches that path and everything below
it; the last matching pattern decides for each path on its own (an ignored folder does not hide a file
below it that a later ``!`` pattern includes, because the archive walk never skips a folder). Names are
matched with Go's ``filepath.Match`` (``*``, ``?``, ``[…]`` with ``^`` negation, ``\\`` escapes).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from ..records import NamedTuple


def _translate(glob: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if c == "*":
            if glob[i : i + 3] == "**/":
                out.append("(?:.*/)?")
                i += 3
                continue
            if glob[i : i + 2] == "**":
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = glob.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = glob[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        elif c == "\\" and i + 1 < len(glob):
            i += 1
            out.append(re.escape(glob[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


class IgnoreRules:
    """Patterns from one file, matched against paths relative to that file's folder.

    All patterns are matched at once: two regular expressions per kind of path (for names and for
    whole paths) list the patterns last first, so the alternative that matches is the last pattern
    that does, which decides as in Git. They are compiled on first use: a rules object costs nothing
    until then.
    """

    def __init__(self, lines: Iterable[str]) -> None:
        self._sources: list[tuple[str, bool, bool, bool]] = []
        """(regex of the pattern, negated, folders only, matched against the last name only)."""
        for raw in lines:
            line = raw.rstrip("\n\r")
            if not line.strip() or line.startswith("#"):
                continue
            line = line.rstrip() if not line.endswith("\\ ") else line
            negate = line.startswith("!")
            if negate:
                line = line[1:]
            dir_only = line.endswith("/")
            line = line.rstrip("/")
            if not line:
                continue
            if "/" in line:  # anchored to the file's folder
                self._sources.append((_translate(line.lstrip("/")), negate, dir_only, False))
            elif "**" in line or "[" in line:  # may match across a "/": against the whole path
                self._sources.append((f"(?:.*/)?{_translate(line)}", negate, dir_only, False))
            else:  # "*.log", "build": against the last name of the path
                self._sources.append((_translate(line), negate, dir_only, True))
        self._matchers: dict[bool, tuple[_Matcher, _Matcher]] = {}

    def _compile(self, is_dir: bool) -> tuple[_Matcher, _Matcher]:
        wanted = [
            (i, src)
            for i, (src, _negate, dir_only, _name) in enumerate(self._sources)
            if is_dir or not dir_only
        ]
        names = [(i, src) for i, src in wanted if self._sources[i][3]]
        paths = [(i, src) for i, src in wanted if not self._sources[i][3]]
        found = self._matchers[is_dir] = (_matcher(names), _matcher(paths))
        return found

    def __bool__(self) -> bool:
        return bool(self._sources)

    def match(self, rel: str, is_dir: bool) -> bool | None:
        """True if ``rel`` itself is ignored, False if re-included by ``!``, None if no pattern speaks.

        Callers walking a tree prune ignored folders; :meth:`ignores` also checks the parents.
        """
        names, paths = self._matchers.get(is_dir) or self._compile(is_dir)
        last = max(names.last(rel.rpartition("/")[2]), paths.last(rel))
        return None if last < 0 else not self._sources[last][1]

    def ignores(self, rel: str, is_dir: bool = False) -> bool:
        """Whether ``rel`` or one of its parent folders is ignored."""
        parts = rel.split("/")
        for i in range(1, len(parts)):
            if self.match("/".join(parts[:i]), True):
                return True
        return bool(self.match(rel, is_dir))


class _Matcher:
    """One regular expression for many patterns; :meth:`last` names the last that matches."""

    __slots__ = ("indexes", "regex")

    def __init__(self, regex: re.Pattern[str] | None, indexes: list[int]) -> None:
        self.regex = regex
        self.indexes = indexes
        """Pattern index of each capturing group (the first group is index 0 here)."""

    def last(self, text: str) -> int:
        found = self.regex.match(text) if self.regex is not None else None
        return self.indexes[found.lastindex - 1] if found is not None and found.lastindex else -1


def _matcher(patterns: list[tuple[int, str]]) -> _Matcher:
    """Patterns (index, regex) as one anchored alternation, the last pattern first."""
    if not patterns:
        return _Matcher(None, [])
    ordered = sorted(patterns, reverse=True)
    regex = re.compile("^(?:" + "|".join(f"({src})" for _i, src in ordered) + ")$")
    return _Matcher(regex, [i for i, _src in ordered])


# -- source-controller's patterns ---------------------------------------------------------------


#: fluxcd/pkg sourceignore: always left out of an archive, whatever the patterns.
EXCLUDE_VCS = (".git/", ".gitignore", ".gitmodules", ".gitattributes")
#: fluxcd/pkg sourceignore defaults, dropped as soon as a .sourceignore file or spec.ignore gives patterns.
EXCLUDE_DEFAULT = (
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.png",
    "*.wmv",
    "*.flv",
    "*.tar.gz",
    "*.zip",
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
    "**/.goreleaser.yml",
    "**/.sops.yaml",
    "**/.flux.yaml",
)


class SourcePattern(NamedTuple):
    """One pattern as go-git's gitignore package parses it."""

    domain: tuple[str, ...]
    """The folder the pattern applies below (the ``.sourceignore`` file's folder)."""
    parts: tuple[str, ...]
    """The pattern split at ``/``."""
    include: bool
    """A ``!`` pattern: puts back what an earlier one left out."""
    dir_only: bool
    anchored: bool
    """The pattern holds a ``/``: matched from the domain's root, not against any one name."""
    text: str
    """The pattern as written, for explanations."""
    origin: str
    """Where it comes from: a ``.sourceignore`` path, ``spec.ignore of GitRepository x``, or
    ``source-controller defaults``."""


def source_pattern(line: str, domain: tuple[str, ...] = (), origin: str = "") -> SourcePattern:
    """Parse one pattern line (no comment or blank line: callers skip those)."""
    text = line
    include = line.startswith("!")
    if include:
        line = line[1:]
    if not line.endswith("\\ "):
        line = line.rstrip(" ")
    dir_only = line.endswith("/")
    if dir_only:
        line = line[:-1]
    return SourcePattern(domain, tuple(line.split("/")), include, dir_only, "/" in line, text, origin)


def read_source_patterns(text: str, domain: tuple[str, ...] = (), origin: str = "") -> list[SourcePattern]:
    """The patterns of a ``.sourceignore`` file or a ``spec.ignore`` block."""
    return [
        source_pattern(line, domain, origin)
        for line in text.splitlines()
        if not line.startswith("#") and line.strip()
    ]


def go_match(pattern: str, name: str) -> bool:
    """Go's ``filepath.Match`` of one path element (a malformed pattern matches nothing)."""
    matcher = _GO_PATTERNS.get(pattern)
    if matcher is None:
        matcher = _GO_PATTERNS[pattern] = _go_matcher(pattern)
    return matcher(name)


_GO_PATTERNS: dict[str, Callable[[str], bool]] = {}

_GO_SPECIAL = frozenset("*?[\\")


def _go_matcher(pattern: str) -> Callable[[str], bool]:
    # The usual patterns (a name, "*.ext": most of source-controller's default excludes) need no
    # regular expression: compiling two dozen of them was a tenth of a small repository's check.
    if _GO_SPECIAL.isdisjoint(pattern):
        return lambda name: name == pattern
    if pattern[0] == "*" and _GO_SPECIAL.isdisjoint(pattern[1:]):
        return _ends_with(pattern[1:])  # "*" never crosses a "/", and one path element has none
    regex = _go_regex(pattern)
    if regex is None:
        return _never
    return lambda name: regex.fullmatch(name) is not None


def _ends_with(suffix: str) -> Callable[[str], bool]:
    return lambda name: name.endswith(suffix)


def _never(_name: str) -> bool:
    return False


def _go_regex(pattern: str) -> re.Pattern[str] | None:
    """``pattern`` as a regular expression; None when Go would answer ErrBadPattern."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\":
            i += 1
            if i >= len(pattern):
                return None  # a trailing backslash is ErrBadPattern
            out.append(re.escape(pattern[i]))
        elif c == "[":
            end = i + 1
            body: list[str] = []
            if end < len(pattern) and pattern[end] == "^":
                body.append("^")
                end += 1
            while end < len(pattern) and pattern[end] != "]":
                ch = pattern[end]
                if ch == "\\":
                    end += 1
                    if end >= len(pattern):
                        return None
                    body.append(re.escape(pattern[end]))
                elif ch == "-" and body and body[-1] != "^":
                    body.append("-")
                else:
                    body.append(re.escape(ch))
                end += 1
            if end >= len(pattern) or len(body) == (1 if body[:1] == ["^"] else 0):
                return None  # an unclosed or empty class is ErrBadPattern
            out.append("[" + "".join(body) + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    try:
        return re.compile("".join(out), re.DOTALL)
    except re.error:
        return None


def pattern_matches(pattern: SourcePattern, path: Sequence[str], is_dir: bool) -> bool:
    """Whether ``pattern`` speaks about ``path`` (its names from the source's root)."""
    domain = pattern.domain
    if len(path) <= len(domain) or tuple(path[: len(domain)]) != domain:
        return False
    rest = path[len(domain) :]
    return _anchored_match(pattern, rest, is_dir) if pattern.anchored else _name_match(pattern, rest, is_dir)


def _name_match(pattern: SourcePattern, path: Sequence[str], is_dir: bool) -> bool:
    # Any one name along the path; a folders-only pattern skips only the last name of a file.
    for i, name in enumerate(path):
        if go_match(pattern.parts[0], name):
            return not (pattern.dir_only and not is_dir and i == len(path) - 1)
    return False


def _anchored_match(pattern: SourcePattern, path: Sequence[str], is_dir: bool) -> bool:
    # go-git: "" parts (a leading or doubled "/") are skipped, "**" lets the next part match further
    # down, a trailing "**" matches anything below; whatever the path has beyond the pattern still
    # matches (the pattern names a folder the path is in).
    rest = list(path)
    matched = False
    traverse = False
    parts = pattern.parts
    for i, part in enumerate(parts):
        if part == "":
            traverse = False
            continue
        if part == "**":
            if i == len(parts) - 1:
                break
            traverse = True
            continue
        if "**" in part or not rest:
            return False
        if traverse:
            traverse = False
            while rest:
                name = rest.pop(0)
                if go_match(part, name):
                    matched = True
                    break
                if not rest:
                    matched = False
        else:
            if not go_match(part, rest[0]):
                return False
            matched = True
            rest.pop(0)
    if matched and pattern.dir_only and not is_dir and not rest:
        return False
    return matched


_GLOB = frozenset("*?[\\")
"""The characters that make a part of a pattern more than its own text (Go's ``filepath.Match``)."""


class SourceIgnore:
    """The patterns source-controller archives an artifact with, in increasing priority."""

    __slots__ = ("_anchored", "_names", "patterns")

    def __init__(self, patterns: Sequence[SourcePattern]) -> None:
        self.patterns = tuple(patterns)
        self._anchored = tuple(
            (i, frozenset(part for part in p.parts if part and not _GLOB.intersection(part)))
            for i, p in enumerate(self.patterns)
            if p.anchored
        )
        """Each anchored pattern with its literal parts: every part of a match matches one name of the
        path, and a literal part only its own text, so a path missing one of them is not matched."""
        self._names: dict[str, tuple[int, ...]] = {}
        """For each name seen: the unanchored patterns (one name each) that match it."""

    @classmethod
    def for_source(cls, given: Sequence[SourcePattern]) -> SourceIgnore:
        """As ``storage.SourceIgnoreFilter`` builds it: the VCS excludes, then either the defaults (no
        pattern given) or the given ``.sourceignore``/``spec.ignore`` patterns, which replace them."""
        vcs = [source_pattern(p, (), "source-controller's VCS excludes") for p in EXCLUDE_VCS]
        if not given:
            return cls(
                [
                    *vcs,
                    *(source_pattern(p, (), "source-controller's default excludes") for p in EXCLUDE_DEFAULT),
                ]
            )
        return cls([*vcs, *given])

    def decisive(self, rel: str, is_dir: bool = False) -> SourcePattern | None:
        """The pattern that decides about ``rel`` (the last that matches), or None."""
        path = rel.split("/")
        # Only a pattern that matches one of the names, or an anchored one, can speak about the path:
        # names repeat across a repository, so what matches each is remembered.
        names = set(path)
        candidates = {i for i, literal in self._anchored if literal <= names}
        for name in names:
            hits = self._names.get(name)
            if hits is None:
                hits = self._names[name] = tuple(
                    i for i, p in enumerate(self.patterns) if not p.anchored and go_match(p.parts[0], name)
                )
            candidates.update(hits)
        for i in sorted(candidates, reverse=True):
            if pattern_matches(self.patterns[i], path, is_dir):
                return self.patterns[i]
        return None

    def ignores(self, rel: str, is_dir: bool = False) -> bool:
        """Whether the archive leaves ``rel`` out."""
        found = self.decisive(rel, is_dir)
        return found is not None and not found.include


#: What source-controller leaves out of an artifact when it is given no pattern of its own.
FLUX_DEFAULT_IGNORES = SourceIgnore.for_source(())
