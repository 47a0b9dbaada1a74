"""Patch targets: kustomize's selector (anchored regular expressions) and Kubernetes label selectors."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from ..records import NamedTuple
from .kfile import Selector
from .resid import Res, text


class SelectorError(Exception):
    """A selector does not parse (the caller adds file and line)."""


@lru_cache(maxsize=512)
def _anchored(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(f"(?:{pattern})\\Z")
    except re.error as exc:
        raise SelectorError(f"invalid regular expression {pattern!r}: {exc}") from None


_LITERAL = re.compile(r"[\w-]*")
"""Patterns that match only themselves (most targets name a kind or an object literally)."""


@lru_cache(maxsize=512)
def _is_literal(pattern: str) -> bool:
    return _LITERAL.fullmatch(pattern) is not None


def _matches(pattern: str, value: str) -> bool:
    if not pattern:
        return True
    if _is_literal(pattern):
        return pattern == value
    return _anchored(pattern).match(value) is not None


class ByName:
    """The objects of one build step by the names :func:`select` compares a literal target name with
    (the current one and the original one), for a run of patches that each name their target: an
    overlay patching each of its bases' objects would otherwise test every object for every patch.

    Valid while no object of the list is renamed, added or removed: the caller drops it then.
    """

    __slots__ = ("_asked", "_names", "_resources")

    def __init__(self, resources: Sequence[Res]) -> None:
        self._resources = resources
        self._names: dict[str, list[Res]] | None = None
        self._asked = False

    def named(self, name: str) -> Sequence[Res]:
        """The objects (in list order) whose current or original name may be ``name``."""
        if self._names is None:
            if not self._asked:
                self._asked = True  # one question alone costs a scan either way: index from the second
                return self._resources
            names: dict[str, list[Res]] = {}
            for res in self._resources:
                current = res.name
                names.setdefault(current, []).append(res)
                if res.prev and res.prev[0][2] != current:
                    names.setdefault(res.prev[0][2], []).append(res)
            self._names = names
        return self._names.get(name, ())


def select(resources: Sequence[Res], target: Selector, by_name: ByName | None = None) -> list[Res]:
    """The objects a patch target picks, as kustomize's ResMap.Select does (``by_name``: an index of
    ``resources``, used when the target names its object literally)."""
    labels = parse_label_selector(target.label_selector) if target.label_selector else None
    annotations = parse_label_selector(target.annotation_selector) if target.annotation_selector else None
    # A literal name (most targets name one object) is compared directly: most objects fail there.
    literal_name = target.name if target.name and _is_literal(target.name) else None
    # (Not with a namespace pattern: an invalid one fails at the first object, named or not.)
    if literal_name is not None and by_name is not None and _is_literal(target.namespace):
        resources = by_name.named(literal_name)
    result = []
    for res in resources:
        # Only the parts of the ids the target asks about, in the order ResMap.Select tests them
        # (a pattern that does not compile fails at the same object as before).
        if target.namespace:
            cur_ns = res.effective_namespace()
            org_ns = res.prev[0][1] if res.prev else cur_ns
            if not (_matches(target.namespace, org_ns) or _matches(target.namespace, cur_ns)):
                continue
        if literal_name is not None:
            meta = res.obj.get("metadata")  # res.name spelt out: this runs for every object of a build
            name = text(meta.get("name")) if isinstance(meta, dict) else ""
            if name != literal_name and not (res.prev and res.prev[0][2] == literal_name):
                continue
        elif target.name:
            cur_name = res.name
            org_name = res.prev[0][2] if res.prev else cur_name
            if not (_matches(target.name, org_name) or _matches(target.name, cur_name)):
                continue
        group, version, kind = res.gvk()
        if not (
            _matches(target.group, group)
            and _matches(target.version, version)
            and _matches(target.kind, kind)
        ):
            continue
        if labels is not None and not _all_match(labels, res.labels):
            continue
        if annotations is not None and not _all_match(annotations, res.annotations):
            continue
        result.append(res)
    return result


class Requirement(NamedTuple):
    key: str
    op: str
    """One of ``exists``, ``!``, ``=``, ``!=``, ``in``, ``notin``, ``gt``, ``lt``."""
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, Any]) -> bool:
        has = self.key in labels
        value = text(labels.get(self.key)) if has else ""
        if self.op == "exists":
            return has
        if self.op == "!":
            return not has
        if self.op in ("=", "in"):
            return has and value in self.values
        if self.op in ("!=", "notin"):
            return not has or value not in self.values
        if self.op in ("gt", "lt"):
            try:
                number, bound = int(value), int(self.values[0])
            except ValueError:
                return False
            return has and (number > bound if self.op == "gt" else number < bound)
        return False


def _all_match(requirements: Sequence[Requirement], labels: Mapping[str, Any]) -> bool:
    return all(r.matches(labels) for r in requirements)


_SET = re.compile(r"^\s*(!?)\s*([^\s=!<>(),]+)\s*(?:(notin|in)\s*\(([^)]*)\)|(==|=|!=|>|<)\s*([^\s,]*))?\s*$")


@lru_cache(maxsize=256)
def parse_label_selector(selector: str) -> tuple[Requirement, ...]:
    """Parse ``a=b,c!=d,e in (x,y),!f,g`` (the Kubernetes label selector syntax)."""
    requirements = []
    for part in _split(selector):
        match = _SET.match(part)
        if match is None:
            raise SelectorError(f"invalid label selector {selector!r} near {part!r}")
        negate, key, set_op, set_values, op, value = match.groups()
        if negate:
            if set_op or op:
                raise SelectorError(f"invalid label selector {selector!r} near {part!r}")
            requirements.append(Requirement(key, "!"))
        elif set_op:
            values = tuple(v.strip() for v in set_values.split(",") if v.strip())
            requirements.append(Requirement(key, set_op, values))
        elif op:
            kind = {"==": "=", "=": "=", "!=": "!=", ">": "gt", "<": "lt"}[op]
            requirements.append(Requirement(key, kind, (value,)))
        else:
            requirements.append(Requirement(key, "exists"))
    return tuple(requirements)


def _split(selector: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current)
    return [p for p in parts if p.strip()]
