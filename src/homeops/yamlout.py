"""Deterministic YAML output: key order kept, block style, multi-line strings as literal blocks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml

from .load.yamlio import needs_quotes

_Dumper: type[Any] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


_MAP, _SEQ, _STR = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:str"
_SCALARS: dict[Any, tuple[str, str]] = {
    True: ("tag:yaml.org,2002:bool", "true"),
    False: ("tag:yaml.org,2002:bool", "false"),
    None: ("tag:yaml.org,2002:null", "null"),
}
_RESOLVED: dict[tuple[str, bool, bool], str] = {}
"""(value, implicit...) → the tag the resolver gives a plain scalar: the same few values recur a lot."""


class _BlockDumper(_Dumper):  # type: ignore[misc]
    """PyYAML's safe dumper, with the plain types (dict, list, str, int, bool, None) represented
    without its generic dispatch and each scalar's implicit tag looked up once: the same nodes (and
    anchors for containers met twice) reach libyaml's emitter, so the same bytes come out, in about
    half the time; building manifests is otherwise mostly spent here."""

    def represent_data(self, data: Any) -> yaml.Node:
        cls = data.__class__
        if cls is str:  # as represent_scalar makes it: strings are never aliased
            return yaml.ScalarNode(_STR, data, style=_str_style(data))
        if cls is dict and not self.sort_keys:
            node: yaml.Node | None = self.represented_objects.get(id(data))
            if node is None:
                self.object_keeper.append(data)
                pairs: list[tuple[yaml.Node, yaml.Node]] = []
                node = self.represented_objects[id(data)] = yaml.MappingNode(_MAP, pairs, flow_style=False)
                for key, value in data.items():
                    pairs.append((self.represent_data(key), self.represent_data(value)))
            return node
        if cls is list:
            node = self.represented_objects.get(id(data))
            if node is None:
                self.object_keeper.append(data)
                items: list[yaml.Node] = []
                node = self.represented_objects[id(data)] = yaml.SequenceNode(_SEQ, items, flow_style=False)
                for item in data:
                    items.append(self.represent_data(item))
            return node
        if cls is int:
            return yaml.ScalarNode("tag:yaml.org,2002:int", str(data))
        if cls is bool or data is None:
            tag, text = _SCALARS[data]
            return yaml.ScalarNode(tag, text)
        return super().represent_data(data)  # type: ignore[no-any-return]

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]
        return _implicit_tag(value, implicit[0], implicit[1])


_RESOLVER = yaml.resolver.Resolver()
"""The resolver of PyYAML's safe dumpers (it keeps no state of its own)."""


def _implicit_tag(value: str, plain: bool, quoted: bool) -> str:
    """The tag the dumper's resolver gives a scalar written plain (or quoted)."""
    key = (value, plain, quoted)
    found = _RESOLVED.get(key)
    if found is None:
        if len(_RESOLVED) > 100_000:
            _RESOLVED.clear()
        found = _RESOLVED[key] = _RESOLVER.resolve(yaml.ScalarNode, value, (plain, quoted))  # type: ignore[no-untyped-call]
    return found


def _str_style(data: str) -> str | None:
    """The style a string is written in (None: libyaml's choice), worked out once per value."""
    found = _STYLES.get(data, "")
    if found == "":
        if "\n" in data:
            # Trailing spaces on a line make libyaml refuse the literal style; keep those quoted.
            found = None if any(line != line.rstrip(" \t") for line in data.splitlines()) else "|"
        else:
            # PyYAML quotes what YAML 1.1 would retype; Go readers also retype 1e3, 0o17, 1_000...
            found = '"' if needs_quotes(data) else None
        if len(_STYLES) > 100_000:
            _STYLES.clear()
        _STYLES[data] = found
    return found


_STYLES: dict[str, str | None] = {}


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar(_STR, data, style=_str_style(data))


_BlockDumper.add_representer(str, _str)


def dump_yaml(data: Any, *, sort_keys: bool = False) -> str:
    """One document, the same bytes for the same data."""
    if not sort_keys:
        written = _written(data)
        if written is not None:
            return written
    return str(
        yaml.dump(
            data,
            Dumper=_BlockDumper,
            sort_keys=sort_keys,
            default_flow_style=False,
            allow_unicode=True,
            width=10_000,
        )
    )


def dump_all(documents: Iterable[Any], *, sort_keys: bool = False) -> str:
    """Documents separated by ``---``."""
    return "".join(f"---\n{dump_yaml(doc, sort_keys=sort_keys)}" for doc in documents)


# -- documents written directly ---------------------------------------------------------------------
#
# Most manifests hold nothing but mappings, lists, numbers, booleans and short strings of letters,
# digits and a few marks. Those are written here exactly as PyYAML lays them out (block style, lists
# in a mapping not indented, empty collections in flow style), several times faster; a document with
# anything else (a multi-line or unusual string, a float, a container met twice, which PyYAML would
# anchor) goes to PyYAML whole. tests/test_yamlout.py holds the two to the same bytes.

_SAFE = re.compile(r"(?!\.\.\.|-( |$))[A-Za-z0-9_/.$-][A-Za-z0-9_./=+ ${}:@,-]*")
"""Strings of characters that need no escaping, starting as a plain scalar may (URLs, paths, ${VAR})."""


class _Unusual(Exception):
    """Something PyYAML writes with more care than :func:`_written` knows: it writes the document."""


def _written(data: Any) -> str | None:
    """``data`` as PyYAML would write it, when it is a plain mapping or list (else None)."""
    if not data or data.__class__ not in (dict, list):
        return None
    out: list[str] = []
    try:
        if isinstance(data, dict):
            _mapping(data, "", "", out, {id(data)})
        else:
            _sequence(data, "", "", out, {id(data)})
    except _Unusual:
        return None
    return "".join(out)


def _mapping(mapping: dict[Any, Any], pad: str, first: str, out: list[str], seen: set[int]) -> None:
    """Write ``mapping`` at indentation ``pad``; its first line starts with ``first`` ("- " items)."""
    lead = first or pad
    for key, value in mapping.items():
        if key.__class__ is not str:
            raise _Unusual
        out.append(f"{lead}{_scalar(key)}:")
        lead = pad
        cls = value.__class__
        if cls is dict:
            if not value:
                out.append(" {}\n")
                continue
            _enter(value, seen)
            out.append("\n")
            _mapping(value, pad + "  ", "", out, seen)
        elif cls is list:
            if not value:
                out.append(" []\n")
                continue
            _enter(value, seen)
            out.append("\n")
            _sequence(value, pad, "", out, seen)  # a list in a mapping is not indented
        else:
            out.append(f" {_scalar(value)}\n")


def _sequence(items: list[Any], pad: str, first: str, out: list[str], seen: set[int]) -> None:
    lead = first or pad
    for item in items:
        cls = item.__class__
        if cls is dict or cls is list:
            if not item:
                out.append(f"{lead}- {'{}' if cls is dict else '[]'}\n")
            else:
                _enter(item, seen)
                inner = pad + "  "
                if cls is dict:
                    _mapping(item, inner, f"{lead}- ", out, seen)
                else:
                    _sequence(item, inner, f"{lead}- ", out, seen)
        else:
            out.append(f"{lead}- {_scalar(item)}\n")
        lead = pad


def _enter(container: Any, seen: set[int]) -> None:
    if id(container) in seen:
        raise _Unusual  # PyYAML writes an anchor and an alias
    seen.add(id(container))


def _scalar(value: Any) -> str:
    cls = value.__class__
    if cls is str:
        if value and (
            len(value) > 1000
            or not _SAFE.fullmatch(value)
            or value[-1] in " :"
            or ": " in value  # a mapping's indicator: quoted, or left to PyYAML
        ):
            raise _Unusual
        style = _str_style(value)
        if style == '"':
            return f'"{value}"'
        if style is not None:
            raise _Unusual
        if _implicit_tag(value, True, False) != _STR:
            return f"'{value}'"  # it would read back as a number, a boolean or null
        return str(value)
    if cls is bool:
        return "true" if value else "false"
    if cls is int:
        return str(value)
    if value is None:
        return "null"
    raise _Unusual
