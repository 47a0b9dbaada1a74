"""Tolerant YAML parsing with libyaml, as Flux (Go YAML) reads files.

Differences from a plain ``yaml.safe_load_all``:

* an anchor defined twice is legal (the later definition wins for later aliases), as in Go YAML;
* unknown tags (``!env_var``, ``!secret``) are loaded as their plain scalar, list or map;
* timestamps stay strings (Kubernetes never sees a date type);
* bytes are decoded by BOM (UTF-8, UTF-16), CRLF is fine, invalid UTF-8 is an error with an offset;
* every document remembers the 1-based line it starts on.

A file that cannot be parsed yields a :class:`ParseFailure` (line, reason), never an exception.
Field lines are found on demand by :func:`locate`, which re-composes the file: findings are rare, so
paying for line tracking only when one is reported keeps the common path at libyaml speed.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import yaml

_CLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


#: Implicit resolvers of YAML 1.1 (what Kubernetes uses) minus timestamps.
_RESOLVERS: dict[Any, list[tuple[str, re.Pattern[str]]]] = {
    key: [(tag, rx) for tag, rx in value if tag != "tag:yaml.org,2002:timestamp"]
    for key, value in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_unknown(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    return None  # pragma: no cover - libyaml has no other node kinds


def _construct_str_timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    return loader.construct_scalar(node)  # type: ignore[arg-type]


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    # Unhashable keys (a list or map used as a key) become their text so the document survives.
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, list | dict):
            key = str(key)
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


def _install(loader_cls: type[Any]) -> None:
    loader_cls.yaml_implicit_resolvers = _RESOLVERS
    loader_cls.add_multi_constructor("!", _construct_unknown)
    loader_cls.add_multi_constructor("tag:", _construct_unknown)
    loader_cls.add_constructor("tag:yaml.org,2002:timestamp", _construct_str_timestamp)
    loader_cls.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


class FastLoader(_CLoader):  # type: ignore[misc]
    """libyaml parser and composer, our constructors."""


class TolerantLoader(yaml.SafeLoader):
    """Pure-Python loader that lets an anchor be defined again, as Go YAML does."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()  # type: ignore[no-untyped-call]
            anchor = event.anchor
            if anchor not in self.anchors:
                raise yaml.composer.ComposerError(
                    None, None, f"found undefined alias {anchor!r}", event.start_mark
                )
            return self.anchors[anchor]
        event = self.peek_event()  # type: ignore[no-untyped-call]
        anchor = event.anchor
        if anchor is not None and anchor in self.anchors:
            # Forget the earlier definition so the base composer does not object.
            del self.anchors[anchor]
        return super().compose_node(parent, index)


_install(FastLoader)
_install(TolerantLoader)


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """Why a file could not be parsed."""

    line: int
    """1-based line of the problem (0 when unknown)."""
    reason: str


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """The documents of one file, or why there are none."""

    documents: tuple[Any, ...]
    """Each document's data (None for an empty document)."""
    lines: tuple[int, ...]
    """1-based line each document's content starts on."""
    failure: ParseFailure | None = None


def decode(raw: bytes) -> str:
    """Text of a YAML file's bytes; raises ``UnicodeDecodeError`` with the offset when invalid."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    if len(raw) >= 2 and raw[0] != 0 and raw[1] == 0:
        return raw.decode("utf-16-le")
    return raw.decode("utf-8")


def parse(raw: bytes | str) -> ParsedFile:
    """Parse every document of a file. Never raises for bad content."""
    try:
        text = decode(raw) if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        assert isinstance(raw, bytes)
        line = raw[: exc.start].count(b"\n") + 1
        return ParsedFile(
            (), (), ParseFailure(line, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})")
        )
    try:
        return _load(text, FastLoader)
    except yaml.composer.ComposerError as exc:
        if "duplicate anchor" not in str(exc):
            return ParsedFile((), (), _failure(exc))
    except yaml.YAMLError as exc:
        return ParsedFile((), (), _failure(exc))
    except RecursionError:
        return ParsedFile((), (), ParseFailure(0, "nesting too deep"))
    try:
        return _load(text, TolerantLoader)
    except yaml.YAMLError as exc:
        return ParsedFile((), (), _failure(exc))


def _load(text: str, loader_cls: type[Any]) -> ParsedFile:
    loader = loader_cls(text)
    docs: list[Any] = []
    lines: list[int] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            lines.append(_content_line(node))
            docs.append(loader.construct_document(node))
    finally:
        loader.dispose()
    if not docs and text.strip() and not _only_comments(text):
        # "---" alone: one empty document.
        docs, lines = [None], [1]
    return ParsedFile(tuple(docs), tuple(lines))


def _only_comments(text: str) -> bool:
    return all(not ln.strip() or ln.lstrip().startswith(("#", "---", "...", "%")) for ln in text.splitlines())


def _content_line(node: yaml.Node | None) -> int:
    if node is None:
        return 1
    return int(node.start_mark.line) + 1


def _failure(exc: yaml.YAMLError) -> ParseFailure:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = int(mark.line) + 1 if mark is not None else 0
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    reason = f"{context}, {problem}" if context else str(problem)
    opened = getattr(exc, "context_mark", None)
    if opened is not None and int(opened.line) + 1 != line:
        reason += f" (it starts on line {int(opened.line) + 1})"
    return ParseFailure(line, reason)


def compose(text: str) -> list[yaml.Node]:
    """The node trees of every document (for locating fields); tolerant of redefined anchors."""
    for loader_cls in (FastLoader, TolerantLoader):
        loader = loader_cls(text)
        nodes: list[yaml.Node] = []
        try:
            while loader.check_node():
                # check_node() guarantees a document, so get_node() returns its node (never None);
                # keeping one entry per document keeps indexes aligned with the parsed documents.
                nodes.append(cast(yaml.Node, loader.get_node()))
            return nodes
        except yaml.YAMLError:
            continue
        finally:
            loader.dispose()
    return []


def locate(node: yaml.Node, path: Sequence[str | int]) -> int:
    """1-based line of the value at ``path`` inside ``node`` (the deepest part that exists)."""
    line = int(node.start_mark.line) + 1
    current: yaml.Node | None = node
    for part in path:
        child = _child(current, part) if current is not None else None
        if child is None:
            break
        key_line, current = child
        line = key_line
    return line


def _child(node: yaml.Node, part: str | int) -> tuple[int, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        merged: list[yaml.Node] = []
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value == "<<" and key.tag in ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:str"):
                    merged.extend(value.value if isinstance(value, yaml.SequenceNode) else [value])
                elif key.value == str(part):
                    return int(key.start_mark.line) + 1, value
        for source in merged:
            found = _child(source, part)
            if found is not None:
                return found
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return int(item.start_mark.line) + 1, item
    return None
