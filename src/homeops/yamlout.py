"""Deterministic YAML output: key order kept, block style, multi-line strings as literal blocks."""

from __future__ import annotations

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
        key = (value, implicit[0], implicit[1])
        found = _RESOLVED.get(key)
        if found is None:
            if len(_RESOLVED) > 100_000:
                _RESOLVED.clear()
            found = _RESOLVED[key] = super().resolve(kind, value, implicit)
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
