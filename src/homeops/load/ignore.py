"""gitignore-style patterns (``.gitignore``, ``.sourceignore``, ``.homeops.yaml`` ignores).

Implements the gitignore rules users rely on: ``#`` comments, ``!`` negation (last match wins),
a leading or inner ``/`` anchors to the file's folder, a trailing ``/`` matches folders only,
``*``, ``?``, ``[…]`` and ``**``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


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


#: What source-controller leaves out of every Git artifact (its built-in ``.sourceignore``).
FLUX_DEFAULT_IGNORES = IgnoreRules(
    [
        ".git/",
        ".gitignore",
        ".gitmodules",
        ".gitattributes",
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
    ]
)
