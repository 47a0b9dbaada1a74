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

The common case (untagged scalars, maps, lists, anchors and aliases) is built straight from libyaml's
event stream, which skips PyYAML's node tree and generic constructors and is about twice as fast; any
file with something else (tags, merge keys, redefined anchors, errors) goes through the full loader,
so both paths give the same data.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, cast

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

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


class ParseFailure(NamedTuple):
    """Why a file could not be parsed."""

    line: int
    """1-based line of the problem (0 when unknown)."""
    reason: str


class ParsedFile(NamedTuple):
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
    if _CParser is not None:
        try:
            return _from_events(text, _CParser(text))
        except (_Unsupported, yaml.YAMLError):
            pass  # the full loader handles it, and words any problem as it always does
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
    return _parsed(text, docs, lines)


def _parsed(text: str, docs: list[Any], lines: list[int]) -> ParsedFile:
    if not docs and text.strip() and not _only_comments(text):
        # "---" alone: one empty document.
        docs, lines = [None], [1]
    return ParsedFile(tuple(docs), tuple(lines))


# -- the event builder ------------------------------------------------------------------------------

_CParser: Any = getattr(getattr(yaml, "_yaml", None), "CParser", None)


class _Unsupported(Exception):
    """The file needs the full loader (a tag, a merge key, an anchor defined twice, deep nesting)."""


_PENDING = object()
"""An anchored map or list still being built: an alias to it is recursive."""
_MAX_DEPTH = 100
"""Deeper documents go to the full loader, which decides about "nesting too deep" as it always did."""
_IMPLICIT = {
    first: resolvers + _RESOLVERS.get(None, [])
    for first, resolvers in _RESOLVERS.items()
    if first is not None
}
_WILDCARD = _RESOLVERS.get(None, [])
_PLAIN: dict[str, Any] = {}
"""Plain scalar text → its value (memoised: keys and common values repeat in every file)."""
_PLAIN_LIMIT = 200_000
_SCALARS = FastLoader("")
"""Only its constructors are used, so an int or a float is read exactly as the full loader reads it."""


def _plain(text: str) -> Any:
    """The value of an untagged plain scalar: YAML 1.1 implicit types, timestamps left as text."""
    for tag, regexp in _IMPLICIT.get(text[0] if text else "", _WILDCARD):
        if regexp.match(text):
            construct = _SCALARS.yaml_constructors.get(tag)
            # merge (``<<``) and value (``=``) keys have no constructor: as values they are text
            value = construct(_SCALARS, yaml.ScalarNode(tag, text)) if construct is not None else text
            break
    else:
        value = text
    if len(_PLAIN) >= _PLAIN_LIMIT:
        _PLAIN.clear()
    _PLAIN[text] = value
    return value


def _from_events(text: str, parser: Any) -> ParsedFile:
    get: Callable[[], Any] = parser.get_event
    docs: list[Any] = []
    lines: list[int] = []
    try:
        get()  # stream start
        event = get()
        while event.__class__ is DocumentStartEvent:
            event = get()
            lines.append(event.start_mark.line + 1)
            docs.append(_document(event, get))
            get()  # document end
            event = get()
        if event.__class__ is not StreamEndEvent:
            raise _Unsupported
    finally:
        parser.dispose()
    return _parsed(text, docs, lines)


def _document(event: Any, get: Callable[[], Any]) -> Any:
    """Build one document from its first node event; consumes events up to its last node event."""
    anchors: dict[str, Any] = {}
    plain = _PLAIN
    # One entry per open collection: [container, state, pending key, anchor]; state is None in a list,
    # True in a map expecting a key, False in a map expecting the value of the pending key.
    stack: list[list[Any]] = []
    while True:
        cls = event.__class__
        if cls is ScalarEvent:
            if event.tag is not None and event.tag != "!":
                raise _Unsupported
            text = event.value
            if event.implicit[0]:
                if text == "<<" and (event.anchor is not None or (stack and stack[-1][1] is True)):
                    raise _Unsupported  # a merge key
                value = plain.get(text, _PENDING)
                if value is _PENDING:
                    value = _plain(text)
            else:
                value = text
            if event.anchor is not None:
                if event.anchor in anchors:
                    raise _Unsupported
                anchors[event.anchor] = value
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            if (event.tag is not None and event.tag != "!") or len(stack) >= _MAX_DEPTH:
                raise _Unsupported
            if event.anchor is not None:
                if event.anchor in anchors:
                    raise _Unsupported
                anchors[event.anchor] = _PENDING
            stack.append(
                [{}, True, None, event.anchor] if cls is MappingStartEvent else [[], None, None, event.anchor]
            )
            event = get()
            continue
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            container, _state, _key, anchor = stack.pop()
            value = container
            if anchor is not None:
                anchors[anchor] = value
        elif cls is AliasEvent:
            value = anchors.get(event.anchor, _PENDING)
            if value is _PENDING:
                raise _Unsupported  # undefined, or recursive: the full loader reports it
        else:
            raise _Unsupported
        if not stack:
            return value
        top = stack[-1]
        state = top[1]
        if state is None:
            top[0].append(value)
        elif state:
            if isinstance(value, dict | list):
                raise _Unsupported  # a complex key: the full loader turns it into text
            top[2] = value
            top[1] = False
        else:
            top[0][top[2]] = value
            top[1] = True
        event = get()


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


class _UntaggedMixin:
    """Every scalar a string: no implicit typing, which :func:`locate` never looks at."""

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
        return _DEFAULT_TAGS[kind]


_DEFAULT_TAGS: dict[type[yaml.Node], str] = {
    yaml.ScalarNode: "tag:yaml.org,2002:str",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
    yaml.MappingNode: "tag:yaml.org,2002:map",
}


class _UntaggedFast(_UntaggedMixin, FastLoader):
    pass


class _UntaggedTolerant(_UntaggedMixin, TolerantLoader):
    pass


def compose(text: str, *, tags: bool = True) -> list[yaml.Node]:
    """The node trees of every document (for locating fields); tolerant of redefined anchors.

    ``tags=False`` leaves every scalar a string, which is all :func:`locate` needs, and is faster.
    """
    for loader_cls in (FastLoader, TolerantLoader) if tags else (_UntaggedFast, _UntaggedTolerant):
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
