"""Flux post-build variable substitution (kustomize-controller's envsubst dialect).

What Flux does, and so what this does:

* only ``${NAME}`` is an expression (``$NAME`` is text); ``$$`` is an escaped ``$``, so ``$${X}`` stays
  ``${X}`` in the output;
* operators: defaults ``:=``, ``:-``, ``=``, ``:+``, ``:?`` (each takes its fallback when the value is
  empty), ``${#X}``, ``${X^}``, ``${X^^}``, ``${X,}``, ``${X,,}``, ``${X:pos:len}``, ``${X/a/b}``,
  ``${X//a/b}``, ``${X/#a/b}``, ``${X/%a/b}``, ``${X#glob}``, ``${X##glob}``, ``${X%glob}``,
  ``${X%%glob}``; defaults may nest expressions;
* a variable without a value and without a default is "missing": empty in non-strict mode, an error in
  strict mode (Flux ≥ 2.9);
* the label or annotation ``kustomize.toolkit.fluxcd.io/substitute: disabled`` opts an object out;
* values from ConfigMaps/Secrets lose their newlines.

Substitution runs on strings (keys and values) of the parsed object rather than on YAML text; a
single-line string whose result reads as a number, boolean or null is retyped, as Flux's re-parse does.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from ..errors import SubstitutionError
from ..records import NamedTuple, Record

DISABLE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
VAR_NAME = re.compile(r"^[_A-Za-z][_A-Za-z0-9]*$")
_DEFAULT_OPS = ("-", "+", "=", "?", ":-", ":+", ":=", ":?")


class Variables(NamedTuple):
    """The variables one Kustomization substitutes with."""

    values: Mapping[str, str] = MappingProxyType({})  # read-only: the default is shared
    opaque: frozenset[str] = frozenset()
    """Names known to exist whose values cannot be read (SOPS-encrypted, no key): left as written."""
    unknown: bool = False
    """A source exists whose names cannot be known here (a Secret an ExternalSecret fills from a vault):
    any name may be defined, so none is reported missing; unknown ones are left as written."""

    def __bool__(self) -> bool:
        return bool(self.values) or bool(self.opaque) or self.unknown


class Outcome(Record):
    """What substituting one object found."""

    __slots__ = ("errors", "missing", "used")

    missing: set[str]
    """Variables used without a value or a default."""
    used: set[str]
    errors: list[str]
    """Syntax errors (Flux fails the whole Kustomization on these)."""

    def __init__(
        self, missing: set[str] | None = None, used: set[str] | None = None, errors: list[str] | None = None
    ) -> None:
        self.missing = set() if missing is None else missing
        self.used = set() if used is None else used
        self.errors = [] if errors is None else errors


# -- parsing ------------------------------------------------------------------------------------


class _Func(NamedTuple):
    param: str
    op: str
    args: tuple[tuple[Any, ...], ...]
    source: str
    """The expression as written, to leave opaque variables untouched."""


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def error(self, message: str) -> SubstitutionError:
        start = self.s.rfind("${", 0, self.i + 1)
        start = max(start if start >= 0 else self.i - 20, 0)
        snippet = self.s[start : start + 40].split("\n", 1)[0]
        return SubstitutionError(f"{message} in {snippet!r}")

    def parse_text(self, stop: str = "") -> tuple[Any, ...]:
        """Text and expressions up to the end or an unescaped character in ``stop``."""
        nodes: list[Any] = []
        buf: list[str] = []
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c in stop:
                break
            if c == "$" and s.startswith("${", self.i):
                if buf:
                    nodes.append("".join(buf))
                    buf = []
                start = self.i
                self.i += 2
                nodes.append(self.parse_func(start))
                continue
            if c == "$" and s.startswith("$$", self.i):
                buf.append("$")
                self.i += 2
                continue
            if stop and c == "\\" and self.i + 1 < len(s) and s[self.i + 1] in "/\\":
                buf.append(s[self.i + 1])
                self.i += 2
                continue
            buf.append(c)
            self.i += 1
        if buf:
            nodes.append("".join(buf))
        return tuple(nodes)

    def parse_func(self, start: int) -> _Func:
        s = self.s
        if self.i < len(s) and s[self.i] == "#":
            self.i += 1
            name = self._ident()
            self._close()
            return _Func(name, "len", (), s[start : self.i])
        name = self._ident()
        c = s[self.i] if self.i < len(s) else ""
        if c == "}":
            self.i += 1
            return _Func(name, "", (), s[start : self.i])
        if c == ":" and self.i + 1 < len(s) and s[self.i + 1] in "=-?+":
            op = s[self.i : self.i + 2]
            self.i += 2
            return self._finish(name, op, start, (self.parse_text("}"),))
        if c == "=":
            self.i += 1
            return self._finish(name, "=", start, (self.parse_text("}"),))
        if c == ":":
            self.i += 1
            first = self.parse_text(":}")
            if self.i < len(s) and s[self.i] == ":":
                self.i += 1
                return self._finish(name, ":", start, (first, self.parse_text("}")))
            return self._finish(name, ":", start, (first,))
        if c in ",^":
            op = c
            self.i += 1
            if self.i < len(s) and s[self.i] == c:
                op += c
                self.i += 1
            self._close()
            return _Func(name, op, (), s[start : self.i])
        if c == "/":
            self.i += 1
            op = "/"
            if self.i < len(s) and s[self.i] in "/#%":
                op += s[self.i]
                self.i += 1
            pattern = self.parse_text("/}")
            if self.i >= len(s) or s[self.i] != "/":
                raise self.error("bad substitution")
            self.i += 1
            replacement = self.parse_text("}")
            return self._finish(name, op, start, (pattern, replacement))
        if c in "#%":
            op = c
            self.i += 1
            if self.i < len(s) and s[self.i] == c:
                op += c
                self.i += 1
            return self._finish(name, op, start, (self.parse_text("}"),))
        raise self.error("missing closing brace")

    def _finish(self, name: str, op: str, start: int, args: tuple[tuple[Any, ...], ...]) -> _Func:
        self._close()
        return _Func(name, op, args, self.s[start : self.i])

    def _ident(self) -> str:
        s = self.s
        j = self.i
        while j < len(s) and (s[j].isalnum() or s[j] == "_"):
            j += 1
        if j == self.i:
            raise self.error("unable to parse variable name")
        name = s[self.i : j]
        self.i = j
        return name

    def _close(self) -> None:
        if self.i >= len(self.s) or self.s[self.i] != "}":
            raise self.error("bad substitution")
        self.i += 1


def parse(text: str) -> tuple[Any, ...]:
    """Parse a string into text pieces and expressions; raises SubstitutionError on bad syntax."""
    found = _PARSED.get(text)
    if found is None:
        found = _Parser(text).parse_text()
        if len(_PARSED) >= 10_000:
            _PARSED.clear()
        _PARSED[text] = found
    return found


_PARSED: dict[str, tuple[Any, ...]] = {}
"""Parsed strings (immutable pieces): the same few expressions recur in every object of a repository."""


def references(text: str) -> list[tuple[str, bool]]:
    """Every variable named in ``text`` and whether it has a default (empty on bad syntax)."""
    try:
        nodes = parse(text)
    except SubstitutionError:
        return []
    out: list[tuple[str, bool]] = []
    _collect(nodes, out)
    return out


def _collect(nodes: tuple[Any, ...], out: list[tuple[str, bool]]) -> None:
    for node in nodes:
        if isinstance(node, _Func):
            out.append((node.param, node.op in _DEFAULT_OPS))
            for arg in node.args:
                _collect(arg, out)


# -- evaluation ---------------------------------------------------------------------------------


def expand(text: str, variables: Variables, outcome: Outcome | None = None) -> str:
    """``text`` with every expression replaced. Records missing and used names in ``outcome``."""
    if "$" not in text:
        return text
    result = outcome if outcome is not None else Outcome()
    try:
        nodes = parse(text)
    except SubstitutionError as exc:
        result.errors.append(exc.message)
        return text
    return _eval(nodes, variables, result)


def _eval(nodes: tuple[Any, ...], variables: Variables, outcome: Outcome) -> str:
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            parts.append(node)
            continue
        if (node.param in variables.opaque or variables.unknown) and node.param not in variables.values:
            outcome.used.add(node.param)
            parts.append(node.source)
            continue
        args = [_eval(arg, variables, outcome) for arg in node.args]
        value = variables.values.get(node.param)
        outcome.used.add(node.param)
        if value is None and node.op not in _DEFAULT_OPS:
            outcome.missing.add(node.param)
        parts.append(_apply(node.op, value or "", args))
    return "".join(parts)


def _apply(op: str, value: str, args: list[str]) -> str:
    if op in _DEFAULT_OPS:
        return value if value else "".join(args)
    if op == "len":
        return str(len(value.encode("utf-8")))
    if op == "^":
        return value[:1].upper() + value[1:]
    if op == "^^":
        return value.upper()
    if op == ",":
        return value[:1].lower() + value[1:]
    if op == ",,":
        return value.lower()
    if op == ":":
        return _substr(value, args)
    if op == "/":
        return value.replace(args[0], args[1], 1) if args[0] else value
    if op == "//":
        return value.replace(args[0], args[1]) if args[0] else value
    if op == "/#":
        return args[1] + value[len(args[0]) :] if value.startswith(args[0]) else value
    if op == "/%":
        return value[: len(value) - len(args[0])] + args[1] if value.endswith(args[0]) else value
    if op in ("#", "##"):
        return _trim_prefix(value, args[0], longest=op == "##")
    if op in ("%", "%%"):
        reverse = _trim_prefix(value[::-1], args[0][::-1], longest=op == "%%")
        return reverse[::-1]
    return value


def _substr(value: str, args: list[str]) -> str:
    try:
        pos = int(args[0])
    except ValueError:
        return value
    if pos < 0:
        pos = max(len(value) + pos, 0)
    if len(args) == 1:
        return value[pos:]
    try:
        length = int(args[1])
    except ValueError:
        return value
    if length < 0:
        end = len(value) + length
        return "" if end < pos else value[pos:end]
    return value[pos : pos + length]


def _trim_prefix(value: str, pattern: str, *, longest: bool) -> str:
    lengths = range(len(value), 0, -1) if longest else range(1, len(value) + 1)
    for n in lengths:
        if fnmatch.fnmatchcase(value[:n], pattern):
            return value[n:]
    return value


# -- objects ------------------------------------------------------------------------------------


def disabled(obj: Mapping[str, Any]) -> bool:
    """Whether an object opts out of substitution."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return False
    for field_name in ("labels", "annotations"):
        values = meta.get(field_name)
        if isinstance(values, dict) and values.get(DISABLE_KEY) == "disabled":
            return True
    return False


def substitute(obj: Any, variables: Variables, outcome: Outcome) -> Any:
    """A copy of ``obj`` with every string substituted (unchanged parts are shared, not copied)."""
    return _walk(obj, lambda text: expand(text, variables, outcome))


def _walk(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        if "$" not in value:
            return value
        new = fn(value)
        return _retype(new) if new != value and "\n" not in value else new
    if isinstance(value, dict):
        # Most objects have few or no variables: a new mapping is made only from the first change on.
        out: dict[Any, Any] | None = None
        for key, item in value.items():
            new_key = fn(key) if isinstance(key, str) and "$" in key else key
            # most values are strings without a variable: skip the call for them
            if item.__class__ is str and "$" not in item:
                new_item = item
            else:
                # a tuple of types, not `X | Y`: that builds a union object at every call (a hot path)
                new_item = _walk(item, fn) if isinstance(item, (str, dict, list)) else item
            if out is not None:
                out[new_key] = new_item
            elif new_key is not key or new_item is not item:
                out = {}
                for earlier, earlier_item in value.items():
                    if earlier is key:
                        break
                    out[earlier] = earlier_item
                out[new_key] = new_item
        return value if out is None else out
    if isinstance(value, list):
        items: list[Any] | None = None
        for i, item in enumerate(value):
            if item.__class__ is str and "$" not in item:
                new_item = item
            else:
                new_item = _walk(item, fn) if isinstance(item, (str, dict, list)) else item
            if items is not None:
                items.append(new_item)
            elif new_item is not item:
                items = [*value[:i], new_item]
        return value if items is None else items
    return value


def _retype(text: str) -> Any:
    # kustomize-controller reads the substituted text back with sigs.k8s.io/yaml (YAML 1.1 booleans)
    from ..load.yamlio import HELM, plain_value

    return plain_value(text, schema=HELM)


def strings_with_vars(
    value: Any, path: tuple[str | int, ...] = ()
) -> list[tuple[tuple[str | int, ...], str]]:
    """(path, text) of every string in ``value`` that contains ``${`` (for reporting by field)."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    _strings_with_vars(value, path, found)
    return found


def _strings_with_vars(value: Any, path: tuple[str | int, ...], found: list[Any]) -> None:
    if isinstance(value, str):
        if "${" in value:
            found.append((path, value))
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "${" in key:
                found.append(((*path, key), key))
            # strings inline: most of the values, and most without a variable
            if item.__class__ is str:
                if "${" in item:
                    found.append(((*path, key), item))
            elif isinstance(item, (str, dict, list)):
                _strings_with_vars(item, (*path, key), found)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if item.__class__ is str:
                if "${" in item:
                    found.append(((*path, i), item))
            elif isinstance(item, (str, dict, list)):
                _strings_with_vars(item, (*path, i), found)
