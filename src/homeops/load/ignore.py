"""gitignore-style patterns (``.gitignore``, ``.sourceignore``, ``.homeops.yaml`` ignores).

Implements the gitignore rules users rely on: ``#`` comments, ``!`` negation (last match wins),
a leading or inner ``/`` anchors to the file's folder, a trailing ``/`` matches folders only,
``*``, ``?``, ``[…]`` and ``**``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class _Pattern:
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


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
    """Patterns from one file, matched against paths relative to that file's folder."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._patterns: list[_Pattern] = []
        self._any_file: re.Pattern[str] | None = None
        self._any_dir: re.Pattern[str] | None = None
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
            anchored = "/" in line
            line = line.lstrip("/")
            body = _translate(line)
            prefix = "" if anchored else "(?:.*/)?"
            self._patterns.append(_Pattern(re.compile(f"^{prefix}{body}$"), negate, dir_only))
        # One alternation per kind of path answers "does any pattern match?" in a single regex call;
        # most paths match nothing, and only those that do walk the patterns in order.
        file_patterns = [p.regex.pattern for p in self._patterns if not p.dir_only]
        all_patterns = [p.regex.pattern for p in self._patterns]
        self._any_file = re.compile("|".join(f"(?:{p})" for p in file_patterns)) if file_patterns else None
        self._any_dir = re.compile("|".join(f"(?:{p})" for p in all_patterns)) if all_patterns else None

    def __bool__(self) -> bool:
        return bool(self._patterns)

    def match(self, rel: str, is_dir: bool) -> bool | None:
        """True if ``rel`` itself is ignored, False if re-included by ``!``, None if no pattern speaks.

        Callers walking a tree prune ignored folders; :meth:`ignores` also checks the parents.
        """
        quick = self._any_dir if is_dir else self._any_file
        if quick is None or not quick.match(rel):
            return None
        verdict: bool | None = None
        for pattern in self._patterns:
            if (is_dir or not pattern.dir_only) and pattern.regex.match(rel):
                verdict = not pattern.negate
        return verdict

    def ignores(self, rel: str, is_dir: bool = False) -> bool:
        """Whether ``rel`` or one of its parent folders is ignored."""
        parts = rel.split("/")
        for i in range(1, len(parts)):
            if self.match("/".join(parts[:i]), True):
                return True
        return bool(self.match(rel, is_dir))


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
