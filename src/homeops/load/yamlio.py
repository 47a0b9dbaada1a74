"""YAML as the Go programs that consume a GitOps repository read it, built from libyaml's events.

Two readings, chosen by ``schema``:

* :data:`KUSTOMIZE` (the default): what Flux applies. kustomize reads manifests with go-yaml v3
  (kyaml) and hands each object on as JSON, so this is go-yaml v3's decoding followed by JSON:
  YAML 1.2 core types (``yes``/``no``/``on``/``off`` are strings, ``1e3`` is the number 1000, ``017``
  and ``0o17`` are 15, ``1_000`` is 1000), unquoted timestamps become RFC 3339 text
  (``2024-01-31`` → ``2024-01-31T00:00:00Z``), ``!!binary`` is decoded, a whole float is an integer
  (``1.0`` → 1, as JSON prints it), merge keys are expanded as kyaml does (a quoted ``"<<"`` key is
  dropped), and what kustomize refuses is a failure: a key defined twice in one mapping
  ("mapping key already defined"), a non-string key below the top level, ``.inf``/``.nan``, a tagged
  value that does not fit its tag. go-yaml v3 writes a folded (``>``) scalar back with one more line
  break before each more-indented line (it checks the wrong position for "the next line starts with
  a space"); kustomize re-reads that text, so the values here carry the same extra breaks.
* :data:`HELM`: what ``sigs.k8s.io/yaml`` reads (Helm's chart and ``values.yaml`` files,
  helm-controller's ``valuesFrom`` and ``valuesFiles``): go-yaml v2, so YAML 1.1 booleans
  (``yes``/``on``/``y`` are true), the same numbers, timestamps left as written, non-string keys
  turned into strings, and the last of two equal keys wins.

Both tolerate what go-yaml tolerates and PyYAML refuses: an anchor defined again (later aliases see
the later value), unknown tags (``!env_var``, loaded as their plain value). Both bound alias
expansion as go-yaml v3 does (an alias bomb is a failure, not a hang) and nesting depth.

Bytes are decoded by BOM (UTF-8, UTF-16); invalid UTF-8 is a failure with its offset. A file that
cannot be read yields a :class:`ParseFailure` (line, reason), never an exception; every document
remembers the 1-based line it starts on. Field lines are found on demand by :func:`locate`, which
re-composes the file: findings are rare, so paying for line tracking only when one is reported keeps
the common path at libyaml speed.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Sequence
from typing import Any, cast

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

from ..records import NamedTuple

KUSTOMIZE = "kustomize"
"""go-yaml v3 through kyaml, then JSON: how Flux's kustomize-controller reads manifests."""
HELM = "helm"
"""go-yaml v2 through ``sigs.k8s.io/yaml``, then JSON: how Helm and helm-controller read values."""

MAX_DEPTH = 200
"""Deepest nesting accepted. go-yaml allows 10,000 levels; homeops walks documents recursively, and
no Kubernetes object comes near this."""


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


def parse(raw: bytes | str, *, schema: str = KUSTOMIZE) -> ParsedFile:
    """Parse every document of a file as ``schema`` reads it. Never raises for bad content."""
    try:
        text = decode(raw) if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        assert isinstance(raw, bytes)
        line = raw[: exc.start].count(b"\n") + 1
        return ParsedFile(
            (), (), ParseFailure(line, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})")
        )
    parser = _CParser(text) if _CParser is not None else yaml.SafeLoader(text)
    try:
        return _from_events(text, parser, _Reading(schema == HELM, text))
    except _Refused as exc:
        return ParsedFile((), (), ParseFailure(exc.line, exc.reason))
    except yaml.YAMLError as exc:
        return ParsedFile((), (), _failure(exc))
    finally:
        parser.dispose()


def _parsed(text: str, docs: list[Any], lines: list[int]) -> ParsedFile:
    if not docs and text.strip() and not _only_comments(text):
        # "---" alone: one empty document.
        docs, lines = [None], [1]
    return ParsedFile(tuple(docs), tuple(lines))


_CParser: Any = getattr(getattr(yaml, "_yaml", None), "CParser", None)


# -- scalars ---------------------------------------------------------------------------------------


class _Refused(Exception):
    """Valid YAML that the Go reader refuses (or that would hang it)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


class _Invalid(Exception):
    """A scalar that does not fit its tag, or that JSON cannot hold (no line yet)."""


_MERGE = object()
"""The value of a plain ``<<``: a merge key when it is a key, the text ``<<`` when it is a value."""
_PENDING = object()
"""An anchored map or list still being built: an alias to it is recursive."""

_TAG = "tag:yaml.org,2002:"
_STR, _BINARY, _MERGE_TAG, _TIMESTAMP = _TAG + "str", _TAG + "binary", _TAG + "merge", _TAG + "timestamp"
_RESOLVABLE = {_TAG + name: "!!" + name for name in ("bool", "int", "float", "null", "timestamp")}

_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")
_WORDS: dict[str, Any] = {
    **dict.fromkeys(_TRUE, True),
    **dict.fromkeys(_FALSE, False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), float("nan")),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), float("inf")),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), float("-inf")),
    "<<": _MERGE,
}
"""go-yaml v3's table of words (YAML 1.2 core)."""
_WORDS_V2: dict[str, Any] = {
    **_WORDS,
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "off", "Off", "OFF"), False),
}
"""go-yaml v2's: YAML 1.1 booleans too."""
_HINTS = frozenset("+-0123456789yYnNtTfFoO~.")
"""First characters of anything that is not a string (go-yaml's resolve table)."""
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?\Z")
_DIGITS = {16: frozenset("0123456789abcdefABCDEF"), 10: frozenset("0123456789"), 8: frozenset("01234567"),
           2: frozenset("01")}  # fmt: skip
_INT64 = 1 << 63
_UINT64 = 1 << 64


def _go_int(text: str, *, bigint: bool) -> int | None:
    """``strconv.ParseInt(text, 0, 64)``, then ``ParseUint``, then (``bigint``) ``big.Int`` — as go-yaml
    tries them; None when none applies."""
    body = text
    sign = body[:1] if body[:1] in ("+", "-") else ""
    if sign:
        body = body[1:]
    prefix = body[:2].lower()
    if prefix in ("0x", "0o", "0b"):
        base, digits = {"0x": 16, "0o": 8, "0b": 2}[prefix], body[2:]
    elif body[:1] == "0" and len(body) > 1:
        base, digits = 8, body[1:]
    else:
        base, digits = 10, body
    if not digits or not _DIGITS[base].issuperset(digits):
        return None
    value = int(digits, base)
    if sign == "-":
        value = -value
        return value if value >= -_INT64 or bigint else None
    if value < _INT64 or (value < _UINT64 and not sign) or bigint:
        return value
    return None


def _json_float(value: float) -> Any:
    """A float as JSON carries it: a whole number is printed (and read back) as an integer."""
    if value != value or value in (_INF, -_INF):
        raise _Invalid("not a number JSON can hold")
    if value.is_integer() and -_INT64 <= value < _UINT64:
        return int(value)
    return value


_INF = float("inf")


def _number(text: str, v2: bool) -> Any:
    """go-yaml's reading of a plain scalar that starts with a digit or a sign (after the words)."""
    plain = text.replace("_", "")
    found = _go_int(plain, bigint=False)
    if found is not None:
        return found
    if _FLOAT.match(plain):
        value = float(plain)
        if value not in (_INF, -_INF):
            return value
    if v2 and any(ch.isdigit() for ch in plain):
        # sigs.k8s.io/yaml's go-yaml v2 keeps integers too large for 64 bits (big.Int)
        big = _go_int(plain, bigint=True)
        if big is not None:
            return big
    return text


def _resolve(text: str, v2: bool) -> Any:
    """The value of an untagged plain scalar, before JSON (floats stay floats, NaN and Inf too)."""
    words = _WORDS_V2 if v2 else _WORDS
    if text in words:
        return words[text]
    first = text[:1]
    if first not in _HINTS:
        return text
    if first == ".":
        if _DOT_FLOAT.match(text):
            value = float(text)
            if value not in (_INF, -_INF):
                return value
        return text
    if first in "+-" or first.isdigit():
        if not v2 and len(text) >= 8 and text[4:5] == "-":
            stamp = timestamp(text)
            if stamp is not None:
                return stamp
        return _number(text, v2)
    return text


def needs_quotes(text: str) -> bool:
    """Whether ``text`` written as a plain scalar would read back as something else in go-yaml v3 or
    v2 (a number, a boolean, null, a timestamp): writers must quote it."""
    return _resolve(text, False) is not text or _resolve(text, True) is not text


def plain_value(text: str, *, schema: str = KUSTOMIZE) -> Any:
    """What an unquoted scalar reads as under ``schema``, as JSON carries it (a number JSON cannot
    hold, ``.inf``, stays text: the Go reader would fail on it, homeops reports that elsewhere)."""
    value = _plain(text, _MEMO_V2 if schema == HELM else _MEMO, schema == HELM)
    if value.__class__ is _Special:
        return value.value if value.value is not None else text
    return "<<" if value is _MERGE else value


def _plain(text: str, memo: dict[str, Any], v2: bool) -> Any:
    """An untagged plain scalar as JSON holds it (memoised: keys and common values repeat)."""
    value = _resolve(text, v2)
    if value.__class__ is float:
        try:
            value = _json_float(value)
        except _Invalid:
            value = _Special(text, None)
    elif value.__class__ is str and value is not text:
        value = _Special(text, value)  # a timestamp: as a key it stays as written
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[text] = value
    return value


class _Special(NamedTuple):
    """A plain scalar whose value differs from its text in a way that matters where it is used: a
    timestamp (a key keeps its text) or a number JSON cannot hold (``value`` None: refused)."""

    text: str
    value: Any


def _special(value: _Special, event: Any) -> Any:
    if value.value is None:
        raise _Refused(
            event.start_mark.line + 1,
            f"{value.text} is not a number JSON can hold, so kustomize cannot write the object out "
            "(json: unsupported value); quote it if it is text",
        )
    return value.value


_MEMO_LIMIT = 200_000
_MEMO: dict[str, Any] = {}
_MEMO_V2: dict[str, Any] = {}


def _tagged(tag: str, text: str, v2: bool) -> Any:
    """A scalar with an explicit tag, as go-yaml decodes it (raises :class:`_Invalid`)."""
    short = _RESOLVABLE.get(tag)
    if tag == _STR:
        return text
    if tag == _BINARY:
        return _binary(text)
    if short is None:
        return text  # a custom tag: its plain text
    if short == "!!timestamp":
        stamp = None if v2 else timestamp(text)
        if stamp is None and not v2:
            raise _Invalid(f"cannot decode !!str `{text}` as a !!timestamp")
        return stamp if stamp is not None else text
    value = _resolve(text, v2)
    if value is _MERGE:
        value = "<<"
    have = _short_tag(value)
    if have != short:
        if short == "!!float" and have == "!!int":
            value = float(value)
        else:
            raise _Invalid(f"cannot decode {have} `{text}` as a {short}")
    return _json_float(value) if value.__class__ is float else value


def _short_tag(value: Any) -> str:
    if value is None:
        return "!!null"
    if value.__class__ is bool:
        return "!!bool"
    if value.__class__ is int:
        return "!!int"
    if value.__class__ is float:
        return "!!float"
    return "!!str"


def _binary(text: str) -> str:
    """``!!binary``: base64 (line breaks ignored, as Go's decoder does), bytes read as JSON reads them."""
    import base64
    import binascii

    try:
        data = base64.b64decode(text.replace("\n", "").replace("\r", ""), validate=True)
    except (binascii.Error, ValueError):
        raise _Invalid("!!binary value contains invalid base64 data") from None
    return data.decode("utf-8", "homeops-go-json")


def _go_json_replace(exc: UnicodeError) -> tuple[str, int]:
    # Go's encoding/json replaces each invalid byte with U+FFFD (Python would merge some of them).
    assert isinstance(exc, UnicodeDecodeError)
    return "\ufffd", exc.start + 1


codecs.register_error("homeops-go-json", _go_json_replace)


# -- timestamps -------------------------------------------------------------------------------------

_STAMP = re.compile(
    r"(\d{4})-(\d\d?)-(\d\d?)"
    r"(?:(?:[Tt]| +)(\d\d?):(\d\d?):(\d\d?)(?:[.,](\d+))?(Z|[+-]\d\d:\d\d)?)?\Z"
)
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def timestamp(text: str) -> str | None:
    """A YAML timestamp as go-yaml v3 reads it (Go's ``time.Parse`` with its four layouts) and JSON
    writes it (RFC 3339 with nanoseconds, trailing zeros dropped, ``Z`` for UTC); None otherwise."""
    found = _STAMP.match(text)
    if found is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    has_time = hour is not None
    separator = text[len(year) + len(month) + len(day) + 2 : len(year) + len(month) + len(day) + 3]
    if has_time and zone is None and separator in "Tt":
        return None  # "T" layouts need a zone; only the space-separated one goes without
    y, m, d = int(year), int(month), int(day)
    if not 1 <= m <= 12:
        return None
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    if not 1 <= d <= (29 if m == 2 and leap else _DAYS[m - 1]):
        return None
    h = mi = s = 0
    if has_time:
        h, mi, s = int(hour), int(minute), int(second)
        if h > 23 or mi > 59 or s > 59:
            return None
    nanos = (fraction or "")[:9].ljust(9, "0") if fraction else ""
    offset = "Z"
    if zone is not None and zone != "Z":
        zh, zm = int(zone[1:3]), int(zone[4:6])
        if zh > 24 or zm > 60:
            return None
        if zh or zm:
            offset = zone
    text_out = f"{y:04d}-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"
    nanos = nanos.rstrip("0")
    if nanos:
        text_out += "." + nanos
    return text_out + offset


# -- folded scalars as kustomize writes and re-reads them -------------------------------------------


_FOLDED: dict[str, str] = {}


def _refold(value: str) -> str:
    """The value of a folded scalar after go-yaml v3 writes it (``>``) and reads it back."""
    found = _FOLDED.get(value)
    if found is None:
        found = _go_folded_roundtrip(value)
        if len(_FOLDED) >= 10_000:
            _FOLDED.clear()
        _FOLDED[value] = found
    return found


_BREAKS = "\n\r\x85\u2028\u2029"


def _go_folded_roundtrip(value: str) -> str:
    if not value or value[-1] == " " or " \n" in value or not _printable(value):
        return value  # go-yaml writes these double-quoted, which reads back exactly
    # go-yaml's block scalar header: an indentation indicator when the text starts with a space or a
    # break, a chomping indicator from its end.
    header = ">"
    if value[0] in " " + _BREAKS:
        header += "2"
    if value[-1] not in _BREAKS:
        header += "-"
    elif len(value) == 1 or value[-2] in _BREAKS:
        header += "+"
    # go-yaml puts an extra break before a line when the *first* line of the text (it looks at
    # position 0 instead of the position after the current breaks) does not start with a blank.
    k = 0
    while k < len(value) and value[k] in _BREAKS:
        k += 1
    extra_break = k < len(value) and value[k] not in " \t"
    out = [header, "\n"]
    breaks = True
    leading_spaces = True
    for ch in value:
        if ch in _BREAKS:
            if not breaks and not leading_spaces and ch == "\n" and extra_break:
                out.append("\n")
            out.append("\n" if ch == "\n" else ch)
            breaks = True
        else:
            if breaks:
                out.append("  ")
                leading_spaces = ch in " \t"
            out.append(ch)
            breaks = False
    parser = _CParser("x: " + "".join(out)) if _CParser is not None else yaml.SafeLoader("x: " + "".join(out))
    try:
        for _ in range(4):  # stream, document, mapping, key
            parser.get_event()
        event = parser.get_event()
        return str(event.value) if event.__class__ is ScalarEvent else value
    except yaml.YAMLError:
        return value
    finally:
        parser.dispose()


def _printable(value: str) -> bool:
    """go-yaml's ``is_printable`` over the whole text (else it writes the scalar double-quoted): tabs,
    line feeds, printable ASCII, and the Basic Multilingual Plane without surrogates, BOM and
    non-characters (so not an emoji, which lies beyond it)."""
    for ch in value:
        code = ord(ch)
        if not (
            0x20 <= code <= 0x7E
            or code in (0x09, 0x0A)  # go-yaml v3 counts tabs apart: they do not rule out block style
            or 0xA0 <= code <= 0xD7FF
            or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
        ):
            return False
    return True


# -- the event builder ------------------------------------------------------------------------------


class _Reading:
    """What one parse needs to know: its schema, and the text and document for error lines."""

    __slots__ = ("index", "memo", "text", "v2")

    def __init__(self, v2: bool, text: str) -> None:
        self.v2 = v2
        self.memo = _MEMO_V2 if v2 else _MEMO
        self.text = text
        self.index = 0


def _from_events(text: str, parser: Any, reading: _Reading) -> ParsedFile:
    get: Callable[[], Any] = parser.get_event
    docs: list[Any] = []
    lines: list[int] = []
    get()  # stream start
    event = get()
    while event.__class__ is DocumentStartEvent:
        event = get()
        lines.append(event.start_mark.line + 1)
        reading.index = len(docs)
        docs.append(_document(event, get, reading))
        get()  # document end
        event = get()
    if event.__class__ is not StreamEndEvent:  # pragma: no cover - libyaml ends every stream
        raise _Refused(event.start_mark.line + 1, "unexpected end of the stream")
    return _parsed(text, docs, lines)


# go-yaml v3's limits on alias expansion (decode.go): past 1,000 decoded nodes of which over 100 come
# from aliases, at most 99% of them may, up to 400,000 nodes, sliding to 10% at 4,000,000.
_ALIAS_LOW = 400_000
_ALIAS_HIGH = 4_000_000


def _allowed_alias_ratio(decoded: int) -> float:
    if decoded <= _ALIAS_LOW:
        return 0.99
    if decoded >= _ALIAS_HIGH:
        return 0.10
    return 0.99 - 0.89 * (decoded - _ALIAS_LOW) / (_ALIAS_HIGH - _ALIAS_LOW)


# One entry per open collection: [container, state, pending key, anchor, start count, merges, root, flow].
# state: None in a list, True in a map expecting a key, False expecting the pending key's value,
# _MERGE_LIST in a list that is the value of a merge key (its items must be maps). merges: None, or
# the maps "<<" brings into this mapping. root: the document's top mapping under KUSTOMIZE (kustomize
# makes its keys strings; below it, keys must already be strings). flow: written in flow style.
_CONTAINER, _STATE, _KEY, _ANCHOR, _START, _MERGES, _ROOT, _FLOW = range(8)
_MERGE_LIST = object()
_MISSING = object()
_DROP = object()
"""The pending key of an entry that is left out (kyaml clears quoted ``"<<"`` keys; go-yaml skips a null
key of the top mapping)."""


def _document(event: Any, get: Callable[[], Any], reading: _Reading) -> Any:
    """Build one document from its first node event; consumes events up to its last node event."""
    v2 = reading.v2
    memo = reading.memo
    anchors: dict[str, Any] = {}
    sizes: dict[str, int] = {}
    decoded = 0
    aliased = 0
    stack: list[list[Any]] = []
    while True:
        cls = event.__class__
        alias = False
        if cls is ScalarEvent:
            decoded += 1
            tag = event.tag
            style = event.style
            if tag is None or tag == "!":
                if not style:
                    value = memo.get(event.value, _PENDING)
                    if value is _PENDING:
                        value = _plain(event.value, memo, v2)
                    if value is None and not event.value and stack and not v2:
                        # go-yaml writes an empty scalar in a flow collection or as a key as '', so
                        # kustomize reads it back as an empty string, not as null
                        if stack[-1][_FLOW] or stack[-1][_STATE] is True:
                            value = ""
                elif style == ">" and not v2:
                    value = _refold(event.value)
                else:
                    value = event.value
            else:
                value = _explicit(tag, event, v2)
            if event.anchor is not None:
                anchors[event.anchor] = value
                sizes[event.anchor] = 1
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            decoded += 1
            if len(stack) >= MAX_DEPTH:
                raise _Refused(event.start_mark.line + 1, f"nested deeper than {MAX_DEPTH} levels")
            if event.anchor is not None:
                anchors[event.anchor] = _PENDING
            flow = bool(event.flow_style)
            if cls is MappingStartEvent:
                stack.append([{}, True, None, event.anchor, decoded, None, not stack and not v2, flow])
            else:
                merging = bool(stack) and stack[-1][_STATE] is False and stack[-1][_KEY] is _MERGE
                state = _MERGE_LIST if merging else None
                stack.append([[], state, None, event.anchor, decoded, None, False, flow])
            event = get()
            continue
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            entry = stack.pop()
            value = entry[_CONTAINER]
            if entry[_MERGES] is not None:
                # kyaml: the mapping's own keys win, then the maps in the order listed
                for source in entry[_MERGES]:
                    for key, item in source.items():
                        value.setdefault(key, item)
            if entry[_ANCHOR] is not None:
                anchors[entry[_ANCHOR]] = value
                sizes[entry[_ANCHOR]] = decoded - entry[_START] + 1
        elif cls is AliasEvent:
            decoded += 1
            name = event.anchor
            value = anchors.get(name, _MISSING)
            if value is _MISSING:
                raise _Refused(event.start_mark.line + 1, f"unknown anchor '{name}' referenced")
            if value is _PENDING:
                raise _Refused(event.start_mark.line + 1, f"anchor '{name}' value contains itself")
            size = sizes[name]
            decoded += size
            aliased += size
            if aliased > 100 and decoded > 1000 and aliased / decoded > _allowed_alias_ratio(decoded):
                raise _Refused(
                    event.start_mark.line + 1,
                    f"document contains excessive aliasing: with the alias *{name} it expands to "
                    f"{decoded:,} nodes, {aliased:,} of them copied from anchors (go-yaml refuses such a "
                    "document; it looks like an alias bomb)",
                )
            alias = True
        else:  # pragma: no cover - the parser sends nothing else inside a document
            raise _Refused(event.start_mark.line + 1, "unexpected YAML event")
        if not stack:
            return _value(value, event)
        top = stack[-1]
        state = top[_STATE]
        # The common cases inline (this loop runs once per node of every file), the rest in helpers.
        if state is False:
            key = top[_KEY]
            top[_STATE] = True
            if key.__class__ is str:
                if value.__class__ is _Special or value is _MERGE:
                    value = _value(value, event)
                top[_CONTAINER][key] = value
            elif key is _MERGE:
                _merge(top, value, event, alias, v2)
        elif state is True:
            if value.__class__ is str and value not in top[_CONTAINER] and value != "<<":
                top[_KEY] = value
            else:
                top[_KEY] = _key(value, top, event, stack, reading)
            top[_STATE] = False
        elif state is None:
            if value.__class__ is _Special or value is _MERGE:
                value = _value(value, event)
            top[_CONTAINER].append(value)
        else:
            top[_CONTAINER].append(_merge_source(value, event, alias))
        event = get()


def _value(value: Any, event: Any) -> Any:
    """A value in a value position: the text of a plain ``<<``, a special scalar's value."""
    if value.__class__ is _Special:
        return _special(value, event)
    if value is _MERGE:
        return "<<"
    return value


def _explicit(tag: str, event: Any, v2: bool) -> Any:
    """A scalar with an explicit tag."""
    if tag == _MERGE_TAG:
        return _MERGE
    try:
        value = _tagged(tag, event.value, v2)
    except _Invalid as exc:
        raise _Refused(event.start_mark.line + 1, str(exc)) from None
    if event.style == ">" and not v2 and value.__class__ is str:
        value = _refold(value)
    return value


def _key(value: Any, top: list[Any], event: Any, stack: list[list[Any]], reading: _Reading) -> Any:
    """The key a scalar (or alias) makes in the mapping ``top``; raises for what the reader refuses."""
    line = event.start_mark.line + 1
    if value is _MERGE:
        if top[_MERGES] is not None and not reading.v2:
            raise _Refused(line, "duplicate merge key")
        return _MERGE
    # a tuple of types, not `X | Y`: that builds a union object at every call (a hot path)
    if isinstance(value, (dict, list)):
        raise _Refused(line, "a mapping or a list used as a mapping key (go-yaml: invalid map key)")
    mapping = top[_CONTAINER]
    if reading.v2:
        # sigs.k8s.io/yaml turns numbers and booleans used as keys into their text; the last wins
        return value if value.__class__ is str else _key_text(value, event)
    if value.__class__ is not str:
        if not top[_ROOT]:
            shown = event.value if event.__class__ is ScalarEvent else repr(value)
            raise _Refused(
                line,
                f"mapping key {shown} is not a string, so kustomize cannot write the object out as JSON "
                "(json: unsupported type map[interface {}]interface {}); quote the key",
            )
        if value is None:
            return _DROP
        # the top mapping is decoded into map[string]interface{}: a scalar key keeps its text
        value = event.value if event.__class__ is ScalarEvent else _key_text(value, event)
    elif value == "<<":
        return _DROP  # a quoted "<<": kyaml clears every field named "<<" once merges are expanded
    if value in mapping:
        raise _Refused(
            line, f'mapping key "{value}" already defined at line {_first_key_line(reading, stack, value)}'
        )
    return value


def _key_text(value: Any, event: Any) -> str:
    if value.__class__ is _Special:
        return str(value.text)
    if value is None:
        return "null"
    if value.__class__ is bool:
        return "true" if value else "false"
    if event.__class__ is ScalarEvent and value.__class__ is float:
        return str(event.value)
    return str(value)


def _merge_source(value: Any, event: Any, alias: bool) -> dict[str, Any]:
    """One item of a list of maps to merge."""
    if isinstance(value, dict):
        return value
    line = event.start_mark.line + 1
    if alias:
        raise _Refused(line, "invalid map merge: received alias for a non-map value")
    if isinstance(value, list):
        raise _Refused(line, "invalid map merge: received a nested sequence")
    raise _Refused(line, "map merge requires map or sequence of maps as the value")


def _merge(top: list[Any], value: Any, event: Any, alias: bool, v2: bool) -> None:
    if isinstance(value, dict):
        sources = [value]
    elif isinstance(value, list) and not alias:
        sources = value  # checked item by item as the list was built
    else:
        _merge_source(value, event, alias)
        return  # pragma: no cover - _merge_source raised
    if v2:
        # go-yaml v2 merges where the key stands (later keys override it); the first map listed wins
        mapping = top[_CONTAINER]
        for source in reversed(sources):
            mapping.update(source)
        return
    top[_MERGES] = sources


def _first_key_line(reading: _Reading, stack: list[list[Any]], key: str) -> int:
    """Line of the first definition of ``key`` in the innermost open mapping (error path only)."""
    path: list[str | int] = []
    for entry in stack[:-1]:
        container = entry[_CONTAINER]
        pending = entry[_KEY]
        if not isinstance(container, list) and not isinstance(pending, str):
            return 0
        path.append(len(container) if isinstance(container, list) else pending)
    nodes = compose(reading.text, tags=False)
    target = _walk(nodes[reading.index], path) if reading.index < len(nodes) else None
    if isinstance(target, yaml.MappingNode):
        for key_node, _value in target.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return int(key_node.start_mark.line) + 1
    return 0


def _walk(node: yaml.Node, path: Sequence[str | int]) -> yaml.Node | None:
    current: yaml.Node | None = node
    for part in path:
        child = _child(current, part, set()) if current is not None else None
        if child is None:
            return None
        current = child[1]
    return current


def _only_comments(text: str) -> bool:
    return all(not ln.strip() or ln.lstrip().startswith(("#", "---", "...", "%")) for ln in text.splitlines())


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


# -- composing, for field lines ---------------------------------------------------------------------

_CLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ComposeFast(_CLoader):  # type: ignore[misc]
    """libyaml parser and composer."""


class _TolerantComposer(yaml.composer.Composer):
    """PyYAML's composer, letting an anchor be defined again as Go YAML does."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        events: Any = self  # the parser this is mixed with supplies the events
        if events.check_event(yaml.AliasEvent):
            event = events.get_event()
            anchor = event.anchor
            if anchor not in self.anchors:
                raise yaml.composer.ComposerError(
                    None, None, f"found undefined alias {anchor!r}", event.start_mark
                )
            return self.anchors[anchor]
        event = events.peek_event()
        anchor = event.anchor
        if anchor is not None and anchor in self.anchors:
            # Forget the earlier definition so the base composer does not object.
            del self.anchors[anchor]
        return super().compose_node(parent, index)


class _ComposeTolerant(_TolerantComposer, yaml.SafeLoader):
    """The tolerant composer on PyYAML's pure-Python parser (the last resort)."""


class _UntaggedMixin:
    """Every scalar a string: no implicit typing, which :func:`locate` never looks at."""

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
        return _DEFAULT_TAGS[kind]


_DEFAULT_TAGS: dict[type[yaml.Node], str] = {
    yaml.ScalarNode: "tag:yaml.org,2002:str",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
    yaml.MappingNode: "tag:yaml.org,2002:map",
}


class _UntaggedFast(_UntaggedMixin, _ComposeFast):
    pass


class _UntaggedTolerant(_UntaggedMixin, _ComposeTolerant):
    pass


_TAGGED: tuple[type[Any], ...] = (_ComposeFast, _ComposeTolerant)
_UNTAGGED: tuple[type[Any], ...] = (_UntaggedFast, _UntaggedTolerant)
"""The composers :func:`compose` tries, in order: libyaml's, then the tolerant ones."""

if _CParser is not None:

    class _ComposeTolerantC(_TolerantComposer, yaml.resolver.Resolver, _CParser):  # type: ignore[misc]
        """The tolerant composer on libyaml's events: what a file with a redefined anchor (app-template
        values repeat ``&port`` and ``&probes`` per controller) composes with, many times faster than
        the pure-Python parser, and with libyaml's marks like every other file."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    class _UntaggedTolerantC(_UntaggedMixin, _ComposeTolerantC):
        pass

    _TAGGED = (_ComposeFast, _ComposeTolerantC, _ComposeTolerant)
    _UNTAGGED = (_UntaggedFast, _UntaggedTolerantC, _UntaggedTolerant)


def compose(text: str, *, tags: bool = True) -> list[yaml.Node]:
    """The node trees of every document (for locating fields); tolerant of redefined anchors.

    ``tags=False`` leaves every scalar a string, which is all :func:`locate` needs, and is faster.
    Node trees share aliased nodes (nothing is expanded), so an alias bomb costs nothing here.
    """
    loaders = _TAGGED if tags else _UNTAGGED
    if _redefines_anchor(text):
        loaders = loaders[1:]  # libyaml's composer would refuse it, after composing most of it
    for loader_cls in loaders:
        loader = loader_cls(text)
        nodes: list[yaml.Node] = []
        try:
            while loader.check_node():
                # check_node() guarantees a document, so get_node() returns its node (never None);
                # keeping one entry per document keeps indexes aligned with the parsed documents.
                nodes.append(cast(yaml.Node, loader.get_node()))
            return nodes
        except (yaml.YAMLError, RecursionError):
            continue
        finally:
            loader.dispose()
    return []


_ANCHOR_DEFINED = re.compile(r"(?:^|[\s\[{,])&([^\s\[\]{},]+)")


def _redefines_anchor(text: str) -> bool:
    """Whether ``text`` seems to define an anchor twice (a hint: a wrong guess costs only time)."""
    if "&" not in text:
        return False
    names = _ANCHOR_DEFINED.findall(text)
    return len(names) != len(set(names))


def locate(node: yaml.Node, path: Sequence[str | int]) -> int:
    """1-based line of the value at ``path`` inside ``node`` (the deepest part that exists)."""
    line = int(node.start_mark.line) + 1
    current: yaml.Node | None = node
    for part in path:
        child = _child(current, part, set()) if current is not None else None
        if child is None:
            break
        key_line, current = child
        line = key_line
    return line


def _child(node: yaml.Node, part: str | int, seen: set[int]) -> tuple[int, yaml.Node] | None:
    if id(node) in seen:
        return None  # merged already on this search: merge keys may share sources many times over
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        merged: list[yaml.Node] = []
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value == "<<" and key.tag in ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:str"):
                    merged.extend(value.value if isinstance(value, yaml.SequenceNode) else [value])
                elif key.value == str(part):
                    return int(key.start_mark.line) + 1, value
        for source in merged:
            found = _child(source, part, seen)
            if found is not None:
                return found
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return int(item.start_mark.line) + 1, item
    return None
