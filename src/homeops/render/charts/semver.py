"""Semantic versions and Helm version constraints, as Masterminds/semver v3 reads them.

Helm, Flux's source-controller and Helm's ``kubeVersion`` check all use that library, so version
selection here must agree with it: lenient versions (``v`` prefix, missing minor or patch), constraints
with ``=`` ``!=`` ``>`` ``<`` ``>=`` ``<=`` ``~`` ``~>`` ``^``, ``x``/``*`` wildcards, hyphen ranges,
``,`` or spaces for AND and ``||`` for OR. A version with a pre-release only satisfies a constraint
whose AND group names a pre-release (``>=1.0.0-0``, ``>=1.0.0-0 <2``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import total_ordering

_VERSION = re.compile(
    r"v?(?P<major>[0-9]+)(?:\.(?P<minor>[0-9]+))?(?:\.(?P<patch>[0-9]+))?"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)
_EXACT = re.compile(
    r"v?[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
)
_X = r"[0-9]+|[xX*]"
_CONSTRAINT_VERSION = (
    rf"v?(?P<major>{_X})(?:\.(?P<minor>{_X}))?(?:\.(?P<patch>{_X}))?"
    r"(?P<pre>-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
)
_PLAIN_VERSION = re.sub(r"\?P<\w+>", "?:", _CONSTRAINT_VERSION)
_ONE = re.compile(r"\s*(?P<op>!=|>=|=>|<=|=<|~>|=|>|<|~|\^)?\s*(?P<version>" + _PLAIN_VERSION + r")\s*")
_HYPHEN = re.compile(rf"(?P<low>{_PLAIN_VERSION})\s+-\s+(?P<high>{_PLAIN_VERSION})")


class SemverError(ValueError):
    """A version or constraint that cannot be parsed."""


@total_ordering
@dataclass(frozen=True, slots=True)
class Version:
    """A parsed semantic version; build metadata is kept but never compared."""

    major: int
    minor: int
    patch: int
    prerelease: str = ""
    build: str = ""
    original: str = ""
    """The text it was parsed from."""

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += f"-{self.prerelease}"
        if self.build:
            text += f"+{self.build}"
        return text

    def _core(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._core() == other._core() and self.prerelease == other.prerelease

    def __hash__(self) -> int:
        return hash((self._core(), self.prerelease))

    def __lt__(self, other: Version) -> bool:
        if self._core() != other._core():
            return self._core() < other._core()
        return _compare_prerelease(self.prerelease, other.prerelease) < 0


def _compare_prerelease(a: str, b: str) -> int:
    if a == b:
        return 0
    if not a:
        return 1  # a release sorts after any of its pre-releases
    if not b:
        return -1
    left, right = a.split("."), b.split(".")
    for x, y in zip(left, right, strict=False):
        if x == y:
            continue
        x_num, y_num = x.isdigit(), y.isdigit()
        if x_num and y_num:
            return -1 if int(x) < int(y) else 1
        if x_num != y_num:
            return -1 if x_num else 1  # numeric identifiers sort first
        return -1 if x < y else 1
    return (len(left) > len(right)) - (len(left) < len(right))


def parse_version(text: str) -> Version:
    """Parse leniently (``v1.2``, ``1``, ``1.2.3-rc.1+build``); raises :class:`SemverError`."""
    match = _VERSION.fullmatch(text.strip())
    if match is None:
        raise SemverError(f"invalid semantic version: {text!r}")
    pre = match["pre"] or ""
    for ident in pre.split(".") if pre else ():
        if ident.isdigit() and len(ident) > 1 and ident.startswith("0"):
            raise SemverError(f"invalid semantic version: {text!r} (leading zero in pre-release)")
    return Version(
        int(match["major"]),
        int(match["minor"] or 0),
        int(match["patch"] or 0),
        pre,
        match["build"] or "",
        text,
    )


def try_version(text: str) -> Version | None:
    try:
        return parse_version(text)
    except SemverError:
        return None


def is_exact(text: str) -> bool:
    """True when ``text`` names one full version (``1.2.3``), not a range or a partial version."""
    return _EXACT.fullmatch(text.strip()) is not None


@dataclass(frozen=True, slots=True)
class _Term:
    op: str
    version: Version
    dirty: bool
    """Some part was a wildcard or missing."""
    minor_dirty: bool
    patch_dirty: bool


def _is_x(part: str | None) -> bool:
    return part is None or part in ("x", "X", "*")


def _term(op: str, text: str) -> _Term:
    match = re.fullmatch(_CONSTRAINT_VERSION, text)
    if match is None:
        raise SemverError(f"invalid version in constraint: {text!r}")
    pre = match["pre"] or ""
    minor_dirty = patch_dirty = dirty = False
    if _is_x(match["major"]):
        core, dirty = "0.0.0", True
    elif _is_x(match["minor"]):
        core, dirty, minor_dirty = f"{match['major']}.0.0", True, True
    elif _is_x(match["patch"]):
        core, dirty, patch_dirty = f"{match['major']}.{match['minor']}.0", True, True
    else:
        core = f"{match['major']}.{match['minor']}.{match['patch']}"
    return _Term(op, parse_version(core + pre), dirty, minor_dirty, patch_dirty)


def _tilde(v: Version, t: _Term) -> bool:
    c = t.version
    if v < c:
        return False
    if c._core() == (0, 0, 0) and not t.minor_dirty and not t.patch_dirty:
        return True
    if v.major != c.major:
        return False
    return v.minor == c.minor or t.minor_dirty


def _caret(v: Version, t: _Term) -> bool:
    c = t.version
    if t.dirty and not t.minor_dirty and not t.patch_dirty:
        return True  # ^* matches everything
    if v < c:
        return False
    if c.major > 0 or t.minor_dirty:
        return v.major == c.major
    if v.major > 0:
        return False
    if c.minor > 0 or t.patch_dirty:
        return v.minor == c.minor
    if v.minor > 0:
        return False
    return v.patch == c.patch


def _not_equal(v: Version, t: _Term) -> bool:
    c = t.version
    if not t.dirty:
        return v != c
    if c.major != v.major:
        return True
    if t.minor_dirty:
        return False
    if c.minor != v.minor:
        return True
    if t.patch_dirty:
        return bool(v.prerelease or c.prerelease) and v.prerelease != c.prerelease
    return v != c  # pragma: no cover - a dirty term always has a dirty part


def _greater(v: Version, t: _Term) -> bool:
    c = t.version
    if not t.dirty:
        return v > c
    if v.major != c.major:
        return v.major > c.major
    if t.minor_dirty:
        return False  # >1 needs 2.0.0 or later
    if t.patch_dirty:
        return v.minor > c.minor
    return v > c  # pragma: no cover


def _less_equal(v: Version, t: _Term) -> bool:
    c = t.version
    if not t.dirty:
        return v <= c
    if v.major > c.major:
        return False
    return not (v.major == c.major and v.minor > c.minor and not t.minor_dirty)


_CHECKS: dict[str, Callable[[Version, _Term], bool]] = {
    "": lambda v, t: _tilde(v, t) if t.dirty else v == t.version,
    "=": lambda v, t: _tilde(v, t) if t.dirty else v == t.version,
    "!=": _not_equal,
    ">": _greater,
    "<": lambda v, t: v < t.version,
    ">=": lambda v, t: v >= t.version,
    "=>": lambda v, t: v >= t.version,
    "<=": _less_equal,
    "=<": _less_equal,
    "~": _tilde,
    "~>": _tilde,
    "^": _caret,
}


@dataclass(frozen=True, slots=True)
class Constraint:
    """A parsed constraint: any of the groups must hold, every term of a group must hold."""

    groups: tuple[tuple[_Term, ...], ...]
    original: str

    def __str__(self) -> str:
        return self.original

    def allows(self, version: Version) -> bool:
        # Masterminds >= 3.4: a pre-release in any term of an AND group opens the group to pre-releases.
        return any(
            all(_check(version, t, prereleases=any(u.version.prerelease for u in group)) for t in group)
            for group in self.groups
        )


def _check(version: Version, term: _Term, *, prereleases: bool) -> bool:
    if version.prerelease and not prereleases:
        return False
    return _CHECKS[term.op](version, term)


def parse_constraint(text: str) -> Constraint:
    """Parse a Helm version constraint; an empty string means any release version."""
    groups: list[tuple[_Term, ...]] = []
    for raw_group in text.split("||"):
        group = _rewrite_hyphen_ranges(raw_group).strip()
        if not group:
            groups.append((_term("", "*"),))
            continue
        terms: list[_Term] = []
        pos = 0
        while pos < len(group):
            if group[pos] in ", ":
                pos += 1
                continue
            match = _ONE.match(group, pos)
            if match is None or match.end() == pos:
                raise SemverError(f"invalid version constraint: {text!r}")
            terms.append(_term(match["op"] or "", match["version"]))
            pos = match.end()
        groups.append(tuple(terms))
    return Constraint(tuple(groups), text)


def _rewrite_hyphen_ranges(group: str) -> str:
    # "1.2 - 1.4.5" means ">= 1.2, <= 1.4.5"
    return _HYPHEN.sub(lambda m: f">= {m['low']}, <= {m['high']}", group)


def highest(candidates: Iterable[tuple[Version, str]], constraint: Constraint) -> tuple[Version, str] | None:
    """The highest ``(version, label)`` the constraint allows; ties keep the first seen."""
    best: tuple[Version, str] | None = None
    for version, label in candidates:
        if constraint.allows(version) and (best is None or version > best[0]):
            best = (version, label)
    return best
