"""Helm's ``--set`` parser (``strvals.ParseInto``), which helm-controller uses for ``valuesFrom.targetPath``.

helm-controller turns ``targetPath: a.b[0].c`` and a ConfigMap/Secret value into ``a.b[0].c=<value>``
and parses that line with Helm's strvals: dots nest mappings, ``[n]`` indexes lists, ``\\`` escapes the
next character, ``,`` separates assignments and ``{x,y}`` is a list. Unquoted values are typed
(``true``, ``false``, ``null``, integers without a leading zero); a value wrapped in single or double
quotes is stripped of them and kept as a string. The quirks are Helm's and kept on purpose: a comma in
an unquoted value starts another assignment. With ``literal: true`` the value is set verbatim, as a
string (fluxcd/pkg escapes it for the same parser), while the path keeps its syntax.

Like Helm's parser, this one writes into the mappings and lists it finds in place (a list only grows into
a new one): helm-controller relies on that, through the mappings its merge shares, for the precedence of
``targetPath`` over inline values (:mod:`.values`).
"""

from __future__ import annotations

from typing import Any

MAX_INDEX = 65536
MAX_NESTED_NAME_LEVEL = 30
_META = frozenset("\\,{}[]=.")
"""What the parser would read as syntax in a value; escaped for a literal one."""


class StrvalsError(ValueError):
    """The ``path=value`` line is not valid for Helm's parser."""


def set_path_value(values: dict[str, Any], path: str, value: str, *, literal: bool = False) -> None:
    """helm-controller's ``ReplacePathValue`` (``ReplacePathLiteralValue`` with ``literal``): set ``value``
    at ``path`` in ``values``, in place."""
    if literal:
        escaped = "".join("\\" + char if char in _META else char for char in value)
        parse_into(f"{path}={escaped}", values, as_string=True)
        return
    quoted = len(value) >= 1 and (
        (value.startswith("'") and value.endswith("'")) or (value.startswith('"') and value.endswith('"'))
    )
    if quoted:
        value = value.strip("'\"")
    parse_into(f"{path}={value}", values, as_string=quoted)


def parse_into(line: str, dest: dict[str, Any], *, as_string: bool = False) -> None:
    """``strvals.ParseInto`` (or ``ParseIntoString`` with ``as_string``): merge ``line`` into ``dest``."""
    _Parser(line, as_string).parse(dest)


class _EOF(Exception):
    pass


class _NotList(Exception):
    pass


def _typed(text: str, as_string: bool) -> Any:
    if as_string:
        return text
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if lowered == "null":
        return None
    if text == "0":
        return 0
    if text and text[0] != "0":
        body = text[1:] if text[0] in "+-" else text
        if body.isascii() and body.isdigit() and -(2**63) <= int(text) < 2**63:
            return int(text)
    return text


class _Parser:
    def __init__(self, line: str, as_string: bool) -> None:
        self.s = line
        self.i = 0
        self.as_string = as_string

    def parse(self, data: dict[str, Any]) -> None:
        while True:
            try:
                self.key(data, 0)
            except _EOF:
                return

    # -- scanning -------------------------------------------------------------------------------

    def read(self) -> str | None:
        if self.i >= len(self.s):
            return None
        char = self.s[self.i]
        self.i += 1
        return char

    def unread(self) -> None:
        self.i -= 1

    def until(self, stop: str) -> tuple[str, str | None]:
        """Characters up to one in ``stop`` (consumed, returned second; None at the end)."""
        out: list[str] = []
        while True:
            char = self.read()
            if char is None:
                return "".join(out), None
            if char in stop:
                return "".join(out), char
            if char == "\\":
                nxt = self.read()
                if nxt is None:
                    return "".join(out), None
                out.append(nxt)
            else:
                out.append(char)

    # -- grammar --------------------------------------------------------------------------------

    def key(self, data: dict[str, Any], level: int) -> None:
        while True:
            key, last = self.until("=[,.")
            if last is None:
                if not key:
                    raise _EOF
                raise StrvalsError(f"key {key!r} has no value")
            if last == "[":
                index = self.index()
                existing = data.get(key, [])
                if not isinstance(existing, list):
                    raise StrvalsError(f"{key!r} is not a list")
                data_list = self.list_item(existing, index, level)
                _set(data, key, data_list)
                return
            if last == "=":
                try:
                    items = self.value_list()
                except _EOF:
                    _set(data, key, "")
                    raise
                except _NotList:
                    text, _ = self.until(",")
                    _set(data, key, _typed(text, self.as_string))
                    return
                _set(data, key, items)
                return
            if last == ",":
                _set(data, key, "")
                raise StrvalsError(f"key {key!r} has no value (cannot end with ,)")
            # last == "."
            level += 1
            if level > MAX_NESTED_NAME_LEVEL:
                raise StrvalsError(
                    f"value name nested level is greater than maximum supported nested level of "
                    f"{MAX_NESTED_NAME_LEVEL}"
                )
            existing = data.get(key)
            if key in data and not isinstance(existing, dict):
                raise StrvalsError(f"{key!r} is not a mapping")
            inner: dict[str, Any] = existing if isinstance(existing, dict) else {}
            try:
                self.key(inner, level)
            except _EOF:
                if inner:
                    _set(data, key, inner)
                raise
            if not inner:
                raise StrvalsError(f"key map {key!r} has no value")
            _set(data, key, inner)
            return

    def index(self) -> int:
        text, last = self.until("]")
        if last is None:
            raise StrvalsError("error parsing index: unterminated '['")
        try:
            return int(text)
        except ValueError:
            raise StrvalsError(f"error parsing index: {text!r} is not a number") from None

    def list_item(self, items: list[Any], index: int, level: int) -> list[Any]:
        if index < 0:
            raise StrvalsError(f"negative {index} index not allowed")
        rest, last = self.until("[.=")
        if rest:
            raise StrvalsError(f"unexpected data at end of array index: {rest!r}")
        if last is None:
            raise _EOF
        if last == "=":
            try:
                value: Any = self.value_list()
            except _EOF:
                return _set_index(items, index, "")
            except _NotList:
                text, _ = self.until(",")
                value = _typed(text, self.as_string)
            return _set_index(items, index, value)
        if last == "[":
            nested_index = self.index()
            current = items[index] if index < len(items) and items[index] is not None else []
            if not isinstance(current, list):
                raise StrvalsError(f"index {index} is not a list")
            return _set_index(items, index, self.list_item(current, nested_index, level))
        # last == "."
        inner: dict[str, Any] = {}
        if index < len(items):
            if not isinstance(items[index], dict):
                items[index] = {}  # indices out of order: Helm starts that item afresh, in place
            inner = items[index]
        self.key(inner, level)
        return _set_index(items, index, inner)

    def value_list(self) -> list[Any]:
        char = self.read()
        if char is None:
            raise _EOF
        if char != "{":
            self.unread()
            raise _NotList
        out: list[Any] = []
        while True:
            text, last = self.until(",}")
            if last is None:
                raise StrvalsError("list must terminate with '}'")
            out.append(_typed(text, self.as_string))
            if last == "}":
                nxt = self.read()
                if nxt is not None and nxt != ",":
                    self.unread()
                return out


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    if key:
        data[key] = value


def _set_index(items: list[Any], index: int, value: Any) -> list[Any]:
    if index < 0:
        raise StrvalsError(f"negative {index} index not allowed")
    if index > MAX_INDEX:
        raise StrvalsError(f"index of {index} is greater than maximum supported index of {MAX_INDEX}")
    if len(items) <= index:
        items = items + [None] * (index + 1 - len(items))  # a new list, as Go's grown slice
    items[index] = value  # else in place: whoever shares the list sees the value
    return items
